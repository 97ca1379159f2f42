import Logging
import SitegateBuffer
import SitegateCore
import SitegateMQTT
import SitegateSystemd
import SitegateThreads

extension Publisher {
    /// A publisher for the drain benchmark: no status, meta or (in practice) health messages; a watchdog no one reads.
    public static func forBenchmark(client: MQTTClient, outbox: Outbox, logger: Logger) -> Publisher {
        let topics = TopicLayout(prefix: "gia/v1", site: "bench", gateway: "gw01")
        return Publisher(
            client: client, outbox: outbox, topics: topics,
            window: 100, health: HealthBoard(), brokers: BrokerEndpoints(urls: ["bench"]),
            announcements: Announcements(
                topics: topics, online: "{}", offline: "{}", metas: [], healthInterval: .seconds(3600),
                started: SystemWallClock().now()),
            watchdog: LockedValue(ProgressWatchdog()), logger: logger)
    }
}
