/*
 * sdnotify — the service manager's notification protocol (sd_notify(3)):
 * one datagram of "KEY=VALUE" lines to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace). Without
 * $NOTIFY_SOCKET every call does nothing, so ddbgate runs the same under
 * systemd, another supervisor, or a shell. No libsystemd.
 */
#ifndef DDBGATE_SDNOTIFY_H
#define DDBGATE_SDNOTIFY_H

#include <stdint.h>

/*
 * Sends the state lines in fmt (e.g. "READY=1\nSTATUS=serving").
 * Returns 1 when sent, 0 without $NOTIFY_SOCKET, -1 on failure.
 */
int sdnotify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The watchdog interval the manager asked for ($WATCHDOG_USEC, honoured
 * only when $WATCHDOG_PID is unset or ours), in microseconds; 0 when none.
 */
uint64_t sdnotify_watchdog_usec(void);

#endif
