/*
 * IANA time zones: which UTC offset applies at an instant, and which instant a local wall-clock
 * time names. Loaded from the system's compiled zoneinfo (TZif, RFC 8536, versions 1-4) including
 * the POSIX-TZ footer rule that governs instants after the last transition.
 *
 * The parsed zone is immutable and may be shared between threads.
 */
#ifndef KPI_TZ_H
#define KPI_TZ_H

#include <stddef.h>
#include <stdint.h>

struct kpi_tz;

/* "UTC" (and "Etc/UTC", "Z") are built in; other names are read from $TZDIR or
 * /usr/share/zoneinfo. Names must look like IANA names (letters, digits, '/', '_', '-', '+'; no
 * "..", no leading '/'). Returns 0, -EINVAL (bad name or corrupt file), -ENOENT (unknown zone). */
int kpi_tz_load(const char *name, struct kpi_tz **ret_tz);
/* Parses TZif bytes (pure; the fuzzing entry point). */
int kpi_tz_parse(const char *name, const uint8_t *data, size_t len, struct kpi_tz **ret_tz);
/* A fixed-offset zone, e.g. for tests. */
int kpi_tz_fixed(const char *name, int32_t offset_s, struct kpi_tz **ret_tz);
struct kpi_tz *kpi_tz_free(struct kpi_tz *tz);

const char *kpi_tz_name(const struct kpi_tz *tz);
/* UTC offset (seconds east of Greenwich) in force at the instant utc_s (seconds). */
int32_t kpi_tz_offset_at(const struct kpi_tz *tz, int64_t utc_s);
/* The instant (seconds) of a local wall-clock time local_s (seconds since 1970-01-01T00:00 local).
 * In a gap (spring forward) the wall time does not exist: the result is the instant the gap ends.
 * In an overlap (fall back) the earlier instant is returned. */
int64_t kpi_tz_local_to_utc(const struct kpi_tz *tz, int64_t local_s);

#endif
