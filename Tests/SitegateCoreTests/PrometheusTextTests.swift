import SitegateCore
import Testing

@Suite struct PrometheusTextTests {
    @Test func familiesAndSamplesInTheExpositionFormat() {
        var out = PrometheusText()
        out.family("sitegate_polls_total", .counter, help: "Polls by outcome.")
        out.sample("sitegate_polls_total", [("device", "m1"), ("outcome", "full")], 12)
        out.family("sitegate_buffer_oldest_age_seconds", .gauge, help: "Age.")
        out.sample("sitegate_buffer_oldest_age_seconds", 1.25)
        #expect(
            out.text == """
                # HELP sitegate_polls_total Polls by outcome.
                # TYPE sitegate_polls_total counter
                sitegate_polls_total{device="m1",outcome="full"} 12
                # HELP sitegate_buffer_oldest_age_seconds Age.
                # TYPE sitegate_buffer_oldest_age_seconds gauge
                sitegate_buffer_oldest_age_seconds 1.25

                """)
    }

    @Test func labelValuesAndHelpAreEscaped() {
        var out = PrometheusText()
        out.family("x_total", .counter, help: "a \\ b\nc")
        out.sample("x_total", [("id", "say \"hi\"\\\n")], 1)
        #expect(out.text.contains("# HELP x_total a \\\\ b\\nc\n"))
        #expect(out.text.contains("x_total{id=\"say \\\"hi\\\"\\\\\\n\"} 1\n"))
    }

    @Test func specialNumbersAsPrometheusSpellsThem() {
        var out = PrometheusText()
        out.sample("a", .infinity)
        out.sample("b", -.infinity)
        out.sample("c", .nan)
        out.sample("d", 3e20)
        #expect(out.text == "a +Inf\nb -Inf\nc NaN\nd 3e+20\n")
    }

    @Test func metricNamesAreChecked() {
        #expect(PrometheusText.isValidName("sitegate_polls_total"))
        #expect(PrometheusText.isValidName("a:b_c9"))
        #expect(!PrometheusText.isValidName("9lives"))
        #expect(!PrometheusText.isValidName("with-dash"))
        #expect(!PrometheusText.isValidName(""))
    }

    @Test func histogramBucketsAreCumulativeWithInfSumAndCount() {
        var h = Histogram(bounds: [0.1, 1, 10])
        for v in [0.05, 0.1, 0.5, 5, 50] { h.observe(v) }
        #expect(h.counts == [2, 1, 1])
        #expect(h.count == 5)
        var out = PrometheusText()
        out.histogram("lat_seconds", help: "Latency.", series: [([("bus", "a")], h)])
        #expect(
            out.text == """
                # HELP lat_seconds Latency.
                # TYPE lat_seconds histogram
                lat_seconds_bucket{bus="a",le="0.1"} 2
                lat_seconds_bucket{bus="a",le="1"} 3
                lat_seconds_bucket{bus="a",le="10"} 4
                lat_seconds_bucket{bus="a",le="+Inf"} 5
                lat_seconds_sum{bus="a"} 55.65
                lat_seconds_count{bus="a"} 5

                """)
    }
}

@Suite struct MetricsListenerTests {
    @Test(arguments: [
        ("127.0.0.1:9464", "127.0.0.1", 9464), ("127.1.2.3:80", "127.1.2.3", 80), ("localhost:9100", "127.0.0.1", 9100),
        ("[::1]:9464", "::1", 9464),
    ])
    func loopbackAddressesAreAccepted(text: String, host: String, port: Int) throws {
        let l = try #require(MetricsListener(text))
        #expect(l.host == host && l.port == port)
    }

    @Test(arguments: [
        "0.0.0.0:9464", "192.168.1.5:9464", "[::]:9464", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "gateway:9464",
        "127.0.0:9464", "127.0.0.256:1", "[::1]9464", ":9464",
    ])
    func everythingElseIsRefused(text: String) {
        #expect(MetricsListener(text) == nil)
    }
}
