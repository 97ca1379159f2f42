/* The practical floor for the footprint benchmark: a plain C loop that does what the agent does for N meters of
 * 30 float32 points each, once per second: one Modbus TCP read of 60 input registers per meter (libmodbus), the
 * 30 values written as a SenML pack, one QoS 1 publish per meter (libmosquitto, its own network thread).
 * No validation, no schedules: the C libraries' cost and little else.
 * With BUFFER_PATH, also what the agent's durable buffer costs at the least: each cycle's packs inserted in one
 * SQLite transaction (WAL, synchronous=FULL: one fdatasync a commit) before they are published, and the previous
 * cycle's rows deleted in the same transaction (the agent deletes acknowledged rows in ranges, later; no chain, no
 * signature, no acknowledgement tracking here).
 * Usage: footprint_loop MODBUS_HOST MODBUS_PORT METERS BROKER_PORT SECONDS [BUFFER_PATH]
 * Prints "cpu_seconds=S max_rss_kb=K readings=R". */
#include <errno.h>
#include <modbus/modbus.h>
#include <mosquitto.h>
#include <sqlite3.h>
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
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: %s MODBUS_HOST MODBUS_PORT METERS BROKER_PORT SECONDS [BUFFER_PATH]\n", argv[0]);
        return 64;
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *insert = NULL, *trim = NULL;
    if (argc == 7) {
        if (sqlite3_open(argv[6], &db) != SQLITE_OK ||
            sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                             "CREATE TABLE IF NOT EXISTS outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, device TEXT, payload BLOB)",
                         NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(db, "INSERT INTO outbox(device, payload) VALUES (?, ?)", -1, &insert, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(db, "DELETE FROM outbox WHERE seq <= ?", -1, &trim, NULL) != SQLITE_OK) {
            fprintf(stderr, "buffer: %s\n", db ? sqlite3_errmsg(db) : "cannot open");
            return 1;
        }
    }
    static char payloads[1024][4096];
    static int lengths[1024];
    sqlite3_int64 last_seq = 0;
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
    char topic[128];
    long readings = 0;
    double end = now() + seconds;
    double tick = (double)((long)now() + 1);
    while (tick < end) {
        double wait = tick - now();
        if (wait > 0) {
            struct timespec ts = {(time_t)wait, (long)((wait - (long)wait) * 1e9)};
            nanosleep(&ts, NULL);
        }
        for (int unit = 1; unit <= meters && unit <= 1024; unit++) {
            lengths[unit - 1] = -1;
            modbus_set_slave(ctx, unit);
            double sent = now();
            if (modbus_read_input_registers(ctx, 0, 60, regs) != 60) continue;
            char *payload = payloads[unit - 1];
            int n = snprintf(payload, 4096, "[{\"bn\":\"urn:dev:gia:bench:gw01:m%d:\",\"bt\":%.3f", unit, sent);
            for (int i = 0; i < 30; i++) {
                float v = modbus_get_float_abcd(&regs[2 * i]);
                n += snprintf(payload + n, 4096 - n, "%s\"n\":\"value_%02d\",\"u\":\"V\",\"v\":%g}", i == 0 ? "," : ",{", i, v);
            }
            n += snprintf(payload + n, 4096 - n, "]");
            lengths[unit - 1] = n;
            if (!db) {
                // The plain loop publishes each pack as soon as it is read, as it always did (the yardstick of
                // issue 16's ratio); the buffered one commits the cycle first.
                snprintf(topic, sizeof topic, "gia/v1/bench/gw01/m%d/data", unit);
                mosquitto_publish(mosq, NULL, topic, n, payload, 1, false);
                readings += 30;
            }
        }
        if (db) {
            // One transaction a cycle: the previous cycle's rows go, this cycle's are stored, one fdatasync.
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
            sqlite3_bind_int64(trim, 1, last_seq);
            sqlite3_step(trim);
            sqlite3_reset(trim);
            for (int unit = 1; unit <= meters && unit <= 1024; unit++) {
                if (lengths[unit - 1] < 0) continue;
                snprintf(topic, sizeof topic, "m%d", unit);
                sqlite3_bind_text(insert, 1, topic, -1, SQLITE_TRANSIENT);
                sqlite3_bind_blob(insert, 2, payloads[unit - 1], lengths[unit - 1], SQLITE_STATIC);
                sqlite3_step(insert);
                sqlite3_reset(insert);
            }
            if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
                fprintf(stderr, "buffer: %s\n", sqlite3_errmsg(db));
                return 1;
            }
            last_seq = sqlite3_last_insert_rowid(db);
        }
        for (int unit = 1; db && unit <= meters && unit <= 1024; unit++) {
            if (lengths[unit - 1] < 0) continue;
            snprintf(topic, sizeof topic, "gia/v1/bench/gw01/m%d/data", unit);
            mosquitto_publish(mosq, NULL, topic, lengths[unit - 1], payloads[unit - 1], 1, false);
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
    if (db) {
        sqlite3_finalize(insert);
        sqlite3_finalize(trim);
        sqlite3_close(db);
    }
    modbus_close(ctx);
    modbus_free(ctx);
    return 0;
}
