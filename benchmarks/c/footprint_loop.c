/* The practical floor for the footprint benchmark: a plain C loop that does what the agent does for N meters of
 * 30 float32 points each, once per second: one Modbus TCP read of 60 input registers per meter (libmodbus), the
 * 30 values written as a SenML pack, one QoS 1 publish per meter (libmosquitto, its own network thread).
 * No buffer, no validation, no schedules: the C libraries' cost and little else.
 * Usage: footprint_loop MODBUS_HOST MODBUS_PORT METERS BROKER_PORT SECONDS
 * Prints "cpu_seconds=S max_rss_kb=K readings=R". */
#include <errno.h>
#include <modbus/modbus.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s MODBUS_HOST MODBUS_PORT METERS BROKER_PORT SECONDS\n", argv[0]);
        return 64;
    }
    int meters = atoi(argv[3]), seconds = atoi(argv[5]);
    modbus_t *ctx = modbus_new_tcp(argv[1], atoi(argv[2]));
    if (ctx == NULL || modbus_connect(ctx) != 0) {
        fprintf(stderr, "modbus connect failed: %s\n", modbus_strerror(errno));
        return 1;
    }
    mosquitto_lib_init();
    struct mosquitto *mosq = mosquitto_new("footprint-c", true, NULL);
    mosquitto_max_inflight_messages_set(mosq, 100);
    if (mosquitto_connect(mosq, "127.0.0.1", atoi(argv[4]), 30) != MOSQ_ERR_SUCCESS || mosquitto_loop_start(mosq) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "mqtt connect failed\n");
        return 1;
    }
    uint16_t regs[60];
    char payload[4096], topic[128];
    long readings = 0;
    double end = now() + seconds;
    double tick = (double)((long)now() + 1);
    while (tick < end) {
        double wait = tick - now();
        if (wait > 0) {
            struct timespec ts = {(time_t)wait, (long)((wait - (long)wait) * 1e9)};
            nanosleep(&ts, NULL);
        }
        for (int unit = 1; unit <= meters; unit++) {
            modbus_set_slave(ctx, unit);
            double sent = now();
            if (modbus_read_input_registers(ctx, 0, 60, regs) != 60) continue;
            int n = snprintf(payload, sizeof payload, "[{\"bn\":\"urn:dev:gia:bench:gw01:m%d:\",\"bt\":%.3f", unit, sent);
            for (int i = 0; i < 30; i++) {
                float v = modbus_get_float_abcd(&regs[2 * i]);
                n += snprintf(payload + n, sizeof payload - n, "%s\"n\":\"value_%02d\",\"u\":\"V\",\"v\":%g}", i == 0 ? "," : ",{", i, v);
            }
            n += snprintf(payload + n, sizeof payload - n, "]");
            snprintf(topic, sizeof topic, "gia/v1/bench/gw01/m%d/data", unit);
            mosquitto_publish(mosq, NULL, topic, n, payload, 1, false);
            readings += 30;
        }
        tick += 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    printf("cpu_seconds=%.3f max_rss_kb=%ld readings=%ld\n", cpu, ru.ru_maxrss, readings);
    mosquitto_disconnect(mosq);
    mosquitto_loop_stop(mosq, false);
    mosquitto_destroy(mosq);
    modbus_close(ctx);
    modbus_free(ctx);
    return 0;
}
