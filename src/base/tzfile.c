/*
 * Loading a time zone by its IANA name: the only place the time-zone code touches the file system.
 *
 * The name usually comes from an organisation setting or a request, so it is treated as hostile: it
 * must look like an IANA name (no "..", no absolute path, a short whitelist of characters) before it
 * is joined to $TZDIR or /usr/share/zoneinfo, and the file read is capped in size before its bytes
 * are handed to the pure parser in tz.c. UTC is built in, so the default calendar works on a system
 * without zoneinfo.
 */
#include "kpi/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The largest real TZif file is under 4 KiB; anything this big is not a zone. */
#define TZFILE_MAX (1024 * 1024)
#define TZNAME_MAX 255

static bool name_is_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > TZNAME_MAX || name[0] == '/')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '_' || c == '-' ||
                  c == '+';
        if (!ok)
            return false;
    }
    /* '.' is not in the whitelist, so ".." cannot occur; empty components ("a//b", "a/") are
     * refused so that one zone has one spelling. */
    if (strstr(name, "//") || name[len - 1] == '/')
        return false;
    return true;
}

/* Reads the whole regular file at path into a malloc'd buffer of at most TZFILE_MAX bytes. */
static int read_capped(const char *path, uint8_t **ret_data, size_t *ret_len)
{
    int r;
    uint8_t *data = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return (errno == ENOENT || errno == ENOTDIR) ? -ENOENT : -errno;

    struct stat st;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        /* A directory such as "Europe" names a region, not a zone. */
        r = -ENOENT;
        goto out;
    }
    if (st.st_size > TZFILE_MAX) {
        r = -EINVAL;
        goto out;
    }
    /* One byte more than fstat promised, so that a file that grew meanwhile is noticed. */
    size_t cap = (size_t)st.st_size + 1;
    data = malloc(cap);
    if (!data) {
        r = -ENOMEM;
        goto out;
    }
    size_t len = 0;
    while (len < cap) {
        ssize_t n = read(fd, data + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len == cap) {
        r = -EINVAL;
        goto out;
    }
    *ret_data = data;
    *ret_len = len;
    data = NULL;
    r = 0;
out:
    free(data);
    close(fd);
    return r;
}

int kpi_tz_load(const char *name, struct kpi_tz **ret_tz)
{
    if (!name || !ret_tz)
        return -EINVAL;
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0 || strcmp(name, "Z") == 0)
        return kpi_tz_fixed(name, 0, ret_tz);
    if (!name_is_valid(name))
        return -EINVAL;

    const char *dir = getenv("TZDIR");
    if (!dir || dir[0] == '\0')
        dir = "/usr/share/zoneinfo";
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -EINVAL;

    uint8_t *data = NULL;
    size_t len = 0;
    int r = read_capped(path, &data, &len);
    if (r < 0)
        return r;
    r = kpi_tz_parse(name, data, len, ret_tz);
    free(data);
    return r;
}
