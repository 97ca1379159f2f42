import SitegateBuffer
import SitegateCore

extension Agent {
    /// The agent's counters and gauges in Prometheus's text format (docs/operations.md, "Metrics"): served through
    /// the control socket (`sitegate metrics`) and, when configured, on a loopback HTTP listener.
    ///
    /// Names: a `sitegate_` prefix, base units (seconds, bytes), `_total` on counters. Utilisation is a counter of
    /// busy seconds, so that any window's rate is the utilisation over that window.
    func metricsText(outbox: Outbox) async -> String {
        let config = self.config
        let (devices, buffer, broker) = health.snapshot()
        let counts = health.counters.snapshot()
        let stats = try? await outbox.stats()
        let now = SystemWallClock().now()
        var out = PrometheusText()

        out.family("sitegate_build_info", .gauge, help: "The running agent's version; always 1.")
        out.sample("sitegate_build_info", [("version", version)], 1)
        out.family("sitegate_start_time_seconds", .gauge, help: "When the agent started, in Unix seconds.")
        out.sample("sitegate_start_time_seconds", startedAt.seconds)

        // Per device, in config order so that scrapes diff cleanly.
        let deviceLabels = config.devices.map { [("device", $0.id), ("bus", $0.busID)] }
        let perDevice = zip(config.devices, deviceLabels).map { device, labels in
            (labels, devices[device.id] ?? DeviceHealth(), counts.devices[device.id] ?? AgentCounters.Device())
        }
        out.family("sitegate_device_up", .gauge, help: "1 while the device's last poll read every point, else 0.")
        for (labels, h, _) in perDevice { out.sample("sitegate_device_up", labels, h.state == .ok ? 1 : 0) }
        out.family("sitegate_polls_total", .counter, help: "Polls by outcome: full, partial (some points failed) or failed.")
        for (labels, _, c) in perDevice {
            for (outcome, n) in [("full", c.full), ("partial", c.partial), ("failed", c.failed)] {
                out.sample("sitegate_polls_total", labels + [("outcome", outcome)], n)
            }
        }
        out.family("sitegate_readings_total", .counter, help: "Values committed to the buffer.")
        for (labels, _, c) in perDevice { out.sample("sitegate_readings_total", labels, c.readings) }
        out.family("sitegate_device_errors_total", .counter, help: "Failed reads by kind (timeout, exception, crc, ...).")
        for (labels, h, _) in perDevice {
            for kind in h.errorsByKind.keys.sorted() {
                out.sample("sitegate_device_errors_total", labels + [("kind", kind)], h.errorsByKind[kind]!)
            }
        }
        out.family("sitegate_missed_ticks_total", .counter, help: "Scheduled ticks not served because the bus was late.")
        for (labels, h, _) in perDevice { out.sample("sitegate_missed_ticks_total", labels, h.missedTicks) }
        out.family("sitegate_backoff_skips_total", .counter, help: "Ticks skipped while a failing device is backed off.")
        for (labels, h, _) in perDevice { out.sample("sitegate_backoff_skips_total", labels, h.backoffSkips) }
        out.family("sitegate_last_good_read_timestamp_seconds", .gauge, help: "When the device last answered, in Unix seconds.")
        for (labels, h, _) in perDevice {
            if let t = h.lastGoodRead { out.sample("sitegate_last_good_read_timestamp_seconds", labels, t.seconds) }
        }

        let busLabels = config.buses.map { [("bus", $0.id)] }
        let perBus = zip(config.buses, busLabels).map { bus, labels in (labels, counts.buses[bus.id] ?? AgentCounters.Bus()) }
        out.family("sitegate_bus_transactions_total", .counter, help: "Modbus request/response transactions on the bus.")
        for (labels, b) in perBus { out.sample("sitegate_bus_transactions_total", labels, b.transactions) }
        out.family("sitegate_bus_timeouts_total", .counter, help: "Transactions that got no answer in time.")
        for (labels, b) in perBus { out.sample("sitegate_bus_timeouts_total", labels, b.timeouts) }
        out.family("sitegate_bus_busy_seconds_total", .counter, help: "Time the bus spent in poll cycles; its rate is the bus utilisation.")
        for (labels, b) in perBus { out.sample("sitegate_bus_busy_seconds_total", labels, b.busySeconds) }

        if let stats {
            out.family("sitegate_buffer_polls", .gauge, help: "Polls in the buffer waiting for the broker's acknowledgement.")
            out.sample("sitegate_buffer_polls", stats.depth)
            out.family("sitegate_buffer_used_bytes", .gauge, help: "Bytes the buffer database uses.")
            out.sample("sitegate_buffer_used_bytes", Double(stats.usedBytes))
            out.family("sitegate_buffer_max_bytes", .gauge, help: "The buffer's size bound (buffer.max_size).")
            out.sample("sitegate_buffer_max_bytes", Double(stats.maxBytes))
            out.family("sitegate_buffer_oldest_age_seconds", .gauge, help: "Age of the oldest unsent poll; 0 when empty.")
            out.sample("sitegate_buffer_oldest_age_seconds", stats.oldestTakenAt.map { max(0, (now - $0).seconds) } ?? 0)
            out.family("sitegate_buffer_last_seq", .gauge, help: "The last sequence number given to a poll.")
            out.sample("sitegate_buffer_last_seq", Double(stats.lastSeq))
            out.family("sitegate_buffer_dropped_polls_total", .counter, help: "Unsent polls deleted by the buffer's size or age bound.")
            out.sample("sitegate_buffer_dropped_polls_total", stats.drops.count)
        }
        out.family("sitegate_buffer_uncommitted_polls_total", .counter, help: "Polls never stored: buffer full with when_full pause, or a failing disk.")
        out.sample("sitegate_buffer_uncommitted_polls_total", buffer.notCommitted)
        out.family("sitegate_buffer_paused", .gauge, help: "1 while a full buffer with when_full pause refuses new polls.")
        out.sample("sitegate_buffer_paused", buffer.paused ? 1 : 0)

        out.family("sitegate_mqtt_connected", .gauge, help: "1 while connected to the broker.")
        out.sample("sitegate_mqtt_connected", broker.connected ? 1 : 0)
        if let node = broker.node {
            out.family("sitegate_mqtt_node", .gauge, help: "The broker node in use, or being tried (mqtt.url lists several); always 1.")
            out.sample("sitegate_mqtt_node", [("url", node)], 1)
        }
        out.family("sitegate_mqtt_connects_total", .counter, help: "Broker sessions started.")
        out.sample("sitegate_mqtt_connects_total", counts.broker.connects)
        out.family("sitegate_mqtt_connection_losses_total", .counter, help: "Broker sessions lost (reconnects follow).")
        out.sample("sitegate_mqtt_connection_losses_total", counts.broker.losses)
        out.family("sitegate_mqtt_connect_failures_total", .counter, help: "Connection attempts that failed or were refused.")
        out.sample("sitegate_mqtt_connect_failures_total", counts.broker.failures)
        out.family("sitegate_mqtt_published_polls_total", .counter, help: "Polls the broker acknowledged (and the buffer deleted).")
        out.sample("sitegate_mqtt_published_polls_total", broker.published)
        out.histogram(
            "sitegate_publish_latency_seconds", help: "From a poll's commit to the broker's PUBACK.",
            series: [([], counts.broker.publishLatency)])

        out.family("sitegate_watchdog_pings_total", .counter, help: "WATCHDOG=1 sent to systemd (0 outside systemd).")
        out.sample("sitegate_watchdog_pings_total", counts.watchdog.pings)
        out.family("sitegate_watchdog_withholding", .gauge, help: "1 while a stalled component keeps the agent from pinging systemd's watchdog.")
        out.sample("sitegate_watchdog_withholding", counts.watchdog.withholding ? 1 : 0)
        return out.text
    }
}
