/*
 * sandbox — what a compromised ddbgate could still do, made small.
 *
 * Once the listeners are bound and privileges dropped, and before any
 * worker thread runs, `ddbgate run` confines itself for the rest of its
 * life:
 *
 *   Landlock   files: read the configuration, certificates, keys,
 *              policies and CA bundles (the directories that hold them,
 *              so a rotated file or a new one beside it can be reloaded),
 *              /etc and OpenSSL's directories; read and write the state
 *              directory and the log files' directories; nothing else.
 *   seccomp    no execve, no ptrace, no mount, module, namespace, key,
 *              clock, swap, reboot or set*id calls, no memory that is
 *              both writable and executable; a foreign system call ABI
 *              kills the process.
 *
 * Both are inherited by every thread created afterwards and cannot be
 * lifted, so a reload cannot widen them: a reload that names a file
 * outside the allowed directories fails ("Permission denied") and the
 * running configuration stays. Each layer is skipped, with the reason,
 * where the kernel lacks it.
 */
#ifndef DDBGATE_SANDBOX_H
#define DDBGATE_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Sanitizer builds (the CI runs the integration tests against one) need
 * ptrace for LeakSanitizer's stop-the-world at exit, exec for the
 * symbolizer, and read/execute access to /proc and /usr for both: only
 * there does the sandbox allow those.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZER_BUILD 1
#endif
#endif

struct config;

#define SANDBOX_READ 0x1u  /* read files and list directories beneath */
#define SANDBOX_WRITE 0x2u /* create, write, truncate and remove files */
#define SANDBOX_EXEC 0x4u  /* execute files beneath */

/* The file-access rules: paths and the rights granted beneath each. */
struct sandbox;

struct sandbox *sandbox_new(void);
void sandbox_free(struct sandbox *sb);

/* Grants rights beneath path (a directory) or on path (a file). */
void sandbox_allow(struct sandbox *sb, const char *path, unsigned rights);

/* Grants rights on the directory that holds file ("." for a bare name). */
void sandbox_allow_parent(struct sandbox *sb, const char *file,
    unsigned rights);

/*
 * Everything `ddbgate run` reads and writes for cfg, loaded from
 * config_path (NULL: the built-in defaults), plus /etc, OpenSSL's
 * directories and the CPU list in /sys.
 */
void sandbox_allow_config(struct sandbox *sb, const struct config *cfg,
    const char *config_path);

size_t sandbox_nrules(const struct sandbox *sb);
/* The i-th rule, in the order granted (one per path: rights merge). */
const char *sandbox_rule(const struct sandbox *sb, size_t i,
    unsigned *rights);

/*
 * Landlock: returns the ABI version applied (>= 1), 0 when the kernel
 * has no Landlock (msg says why), -1 on an error (msg says which path
 * or call). A path that does not exist is left out (nothing there to
 * read); msg then names the first one.
 */
int sandbox_landlock(const struct sandbox *sb, char *msg, size_t msglen);

/*
 * The seccomp filter: returns the number of system calls denied
 * outright, 0 when the kernel has no seccomp filters, -1 on an error.
 */
int sandbox_seccomp(char *msg, size_t msglen);

#endif
