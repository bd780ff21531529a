/*
 * Unit tests for sandbox: the rules drawn from a configuration, parent
 * directories, and — in a child process each, since neither layer can be
 * lifted — Landlock and the seccomp filter doing what they promise:
 * allowed reads and writes work, everything else is EACCES; denied system
 * calls are EPERM, threads and sockets still work.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "sandbox.h"

/* The rights of path's rule, or 0 when it has none. */
static unsigned
rights_of(const struct sandbox *sb, const char *path)
{
	for (size_t i = 0; i < sandbox_nrules(sb); i++) {
		unsigned r;
		const char *p = sandbox_rule(sb, i, &r);

		if (strcmp(p, path) == 0)
			return r;
	}
	return 0;
}

static void
test_parent_directories(void **state)
{
	struct sandbox *sb = sandbox_new();

	(void)state;
	sandbox_allow_parent(sb, "bare.pem", SANDBOX_READ);
	sandbox_allow_parent(sb, "/top.pem", SANDBOX_READ);
	sandbox_allow_parent(sb, "/a/b/c.pem", SANDBOX_READ);
	sandbox_allow_parent(sb, "/a/b/d.pem", SANDBOX_WRITE);
	sandbox_allow_parent(sb, NULL, SANDBOX_READ);
	sandbox_allow_parent(sb, "", SANDBOX_READ);
	sandbox_allow(sb, "/x", 0);
	assert_int_equal(sandbox_nrules(sb), 3);
	assert_int_equal(rights_of(sb, "."), SANDBOX_READ);
	assert_int_equal(rights_of(sb, "/"), SANDBOX_READ);
	/* one rule per path: rights merge */
	assert_int_equal(rights_of(sb, "/a/b"), SANDBOX_READ | SANDBOX_WRITE);
	assert_int_equal(rights_of(sb, "/x"), 0);
	assert_null(sandbox_rule(sb, 3, NULL));
	sandbox_free(sb);
}

static const char cfg_text[] =
    "state_dir: /srv/gw/state\n"
    "listeners:\n"
    "  - address: 127.0.0.1:3128\n"
    "    mode: connect\n"
    "    proxy_auth_users: /srv/gw/auth/users\n"
    "tls:\n"
    "  ca_cert: /srv/gw/ca/ca.pem\n"
    "  ca_key: /srv/gw/cakey/ca.key\n"
    "endpoints:\n"
    "  - name: ddb\n"
    "    service: dynamodb\n"
    "    hosts: [dynamodb.us-east-1.amazonaws.com]\n"
    "    ca_file: /srv/gw/trust/bundle.pem\n"
    "    policy: /srv/gw/policies/ddb.json\n"
    "audit:\n"
    "  path: '-'\n"
    "access_log:\n"
    "  path: /var/log/gw/access.log\n";

static void
test_rules_from_config(void **state)
{
	char err[512];
	struct config *cfg;
	struct sandbox *sb;
	const unsigned r = SANDBOX_READ, rw = SANDBOX_READ | SANDBOX_WRITE;

	(void)state;
	cfg = config_load_buffer("gw.yaml", cfg_text, sizeof(cfg_text) - 1,
	    err, sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_true(cfg->sandbox); /* on unless turned off */
	sb = sandbox_new();
	sandbox_allow_config(sb, cfg, "/etc/gw/gw.yaml");
	assert_int_equal(rights_of(sb, "/etc/gw"), r);
	assert_int_equal(rights_of(sb, "/srv/gw/auth"), r);
	assert_int_equal(rights_of(sb, "/srv/gw/ca"), r);
	assert_int_equal(rights_of(sb, "/srv/gw/cakey"), r);
	assert_int_equal(rights_of(sb, "/srv/gw/trust"), r);
	assert_int_equal(rights_of(sb, "/srv/gw/policies"), r);
	assert_int_equal(rights_of(sb, "/srv/gw/state"), rw);
	assert_int_equal(rights_of(sb, "/var/log/gw"), rw);
	assert_int_equal(rights_of(sb, "/etc"), r);
	/* standard output is not a file; nothing wider than asked for */
	assert_int_equal(rights_of(sb, "."), 0);
	assert_int_equal(rights_of(sb, "/"), 0);
	assert_int_equal(rights_of(sb, "/srv/gw"), 0);
	assert_int_equal(rights_of(sb, "/srv"), 0);
	assert_int_equal(rights_of(sb, "/var/log"), 0);
	for (size_t i = 0; i < sandbox_nrules(sb); i++) {
		unsigned rights;
		const char *p = sandbox_rule(sb, i, &rights);

		if (rights & SANDBOX_WRITE)
			assert_true(strcmp(p, "/srv/gw/state") == 0 ||
			    strcmp(p, "/var/log/gw") == 0);
#ifndef SANDBOX_SANITIZER_BUILD
		assert_false(rights & SANDBOX_EXEC);
#endif
	}
	sandbox_free(sb);
	config_free(cfg);
}

static void
test_sandbox_off(void **state)
{
	static const char text[] = "sandbox: false\n"
				   "listeners:\n"
				   "  - address: 127.0.0.1:3128\n"
				   "    mode: connect\n"
				   "endpoints:\n"
				   "  - name: ddb\n"
				   "    service: dynamodb\n"
				   "    hosts: [dynamodb.us-east-1.amazonaws.com]\n";
	char err[512];
	struct config *cfg;

	(void)state;
	cfg = config_load_buffer("gw.yaml", text, sizeof(text) - 1, err,
	    sizeof(err));
	if (cfg == NULL)
		fail_msg("%s", err);
	assert_false(cfg->sandbox);
	config_free(cfg);
}

/* ---- in a child: what the kernel enforces ------------------------- */

#define SKIP_STATUS 77

static int report_fd = -1;
static int problems;

static void problem(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
problem(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(report_fd, buf, (size_t)n) < 0)
		_exit(2);
	problems++;
}

/* Runs fn in a child; fails with what it reported, skips on 77. */
static void
in_child(void (*fn)(void *), void *arg)
{
	char out[4096];
	size_t len = 0;
	ssize_t n;
	int p[2], status;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		report_fd = p[1];
		fn(arg);
		_exit(problems == 0 ? 0 : 1); /* no atexit handlers */
	}
	close(p[1]);
	while (len < sizeof(out) - 1 &&
	    (n = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_STATUS) {
		print_message("skipped: %s", out);
		skip();
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("child (status %#x):\n%s", status, out);
}

/* open(path, flags) must succeed (want 0) or fail with errno want. */
static void
expect_open(const char *path, int flags, int want)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);

	if (want == 0 && fd < 0)
		problem("open %s: %s, expected success", path,
		    strerror(errno));
	else if (want != 0 && fd >= 0)
		problem("open %s succeeded, expected %s", path,
		    strerror(want));
	else if (want != 0 && errno != want)
		problem("open %s: %s, expected %s", path, strerror(errno),
		    strerror(want));
	if (fd >= 0)
		close(fd);
}

struct dirs {
	char ro[64], rw[64], other[64];
};

static void
write_file(const char *dir, const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
}

static void
landlock_child(void *arg)
{
	const struct dirs *d = arg;
	struct sandbox *sb = sandbox_new();
	char msg[256], path[128];
	int abi;

	sandbox_allow(sb, d->ro, SANDBOX_READ);
	sandbox_allow(sb, d->rw, SANDBOX_READ | SANDBOX_WRITE);
	sandbox_allow(sb, "/nonexistent-ddbgate-test-dir", SANDBOX_READ);
	abi = sandbox_landlock(sb, msg, sizeof(msg));
	sandbox_free(sb);
	if (abi == 0) {
		problem("%s", msg);
		_exit(SKIP_STATUS);
	}
	if (abi < 0) {
		problem("sandbox_landlock: %s", msg);
		return;
	}
	if (strstr(msg, "/nonexistent-ddbgate-test-dir") == NULL)
		problem("a missing path is not reported: \"%s\"", msg);

	snprintf(path, sizeof(path), "%s/f", d->ro);
	expect_open(path, O_RDONLY, 0);
	expect_open(path, O_WRONLY, EACCES);
	expect_open(d->ro, O_RDONLY | O_DIRECTORY, 0);
	snprintf(path, sizeof(path), "%s/new", d->ro);
	expect_open(path, O_WRONLY | O_CREAT, EACCES);

	snprintf(path, sizeof(path), "%s/f", d->rw);
	expect_open(path, O_RDONLY, 0);
	expect_open(path, O_WRONLY | O_APPEND, 0);
	expect_open(path, O_WRONLY | O_TRUNC, 0);
	snprintf(path, sizeof(path), "%s/new", d->rw);
	expect_open(path, O_WRONLY | O_CREAT | O_EXCL, 0);
	if (unlink(path) != 0)
		problem("unlink %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/sub", d->rw);
	if (mkdir(path, 0700) == 0 || errno != EACCES)
		problem("mkdir %s was not refused with EACCES", path);

	snprintf(path, sizeof(path), "%s/f", d->other);
	expect_open(path, O_RDONLY, EACCES);
	expect_open(d->other, O_RDONLY | O_DIRECTORY, EACCES);
	expect_open("/etc/passwd", O_RDONLY, EACCES);
	/* moving a file out of the writable directory needs REFER */
	{
		char from[128], to[128];

		snprintf(from, sizeof(from), "%s/f", d->rw);
		snprintf(to, sizeof(to), "%s/moved", d->ro);
		if (rename(from, to) == 0)
			problem("rename %s -> %s succeeded", from, to);
	}
}

static void
test_landlock_enforced(void **state)
{
	struct dirs d;
	char cmd[256];

	(void)state;
	snprintf(d.ro, sizeof(d.ro), "/tmp/sbtest-%d-ro", (int)getpid());
	snprintf(d.rw, sizeof(d.rw), "/tmp/sbtest-%d-rw", (int)getpid());
	snprintf(d.other, sizeof(d.other), "/tmp/sbtest-%d-other",
	    (int)getpid());
	assert_int_equal(mkdir(d.ro, 0700), 0);
	assert_int_equal(mkdir(d.rw, 0700), 0);
	assert_int_equal(mkdir(d.other, 0700), 0);
	write_file(d.ro, "f");
	write_file(d.rw, "f");
	write_file(d.other, "f");
	in_child(landlock_child, &d);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s %s", d.ro, d.rw, d.other);
	assert_int_equal(system(cmd), 0);
}

static void *
thread_fn(void *arg)
{
	*(int *)arg = 42;
	return NULL;
}

/* syscall must fail with EPERM. */
static void
expect_eperm(const char *what, long rc)
{
	if (rc != -1)
		problem("%s returned %ld, expected EPERM", what, rc);
	else if (errno != EPERM)
		problem("%s: %s, expected EPERM", what, strerror(errno));
}

static void
seccomp_child(void *arg)
{
	char msg[256];
	int n, ran = 0, s;
	pthread_t t;
	void *m;
	pid_t pid;

	(void)arg;
	n = sandbox_seccomp(msg, sizeof(msg));
	if (n == 0) {
		problem("%s", msg);
		_exit(SKIP_STATUS);
	}
	if (n < 0) {
		problem("sandbox_seccomp: %s", msg);
		return;
	}
	if (n < 50)
		problem("only %d system calls denied", n);

	/* what ddbgate needs still works */
	if (pthread_create(&t, NULL, thread_fn, &ran) != 0 ||
	    pthread_join(t, NULL) != 0 || ran != 42)
		problem("a thread could not be created and joined");
	if ((s = socket(AF_INET6, SOCK_STREAM, 0)) < 0)
		problem("socket: %s", strerror(errno));
	else
		close(s);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		problem("mmap read-write: %s", strerror(errno));
	else {
		if (mprotect(m, 4096, PROT_READ) != 0)
			problem("mprotect read-only: %s", strerror(errno));
		expect_eperm("mprotect PROT_EXEC",
		    mprotect(m, 4096, PROT_READ | PROT_EXEC));
		munmap(m, 4096);
	}
	if ((pid = fork()) == 0)
		_exit(0);
	if (pid < 0)
		problem("fork: %s", strerror(errno));
	else
		waitpid(pid, NULL, 0);

	/*
	 * What it must not do. Each call is chosen to be harmless should
	 * the filter let it through (it then fails another way, or does
	 * nothing), since this runs in the tester's own namespaces.
	 */
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	expect_eperm("mmap write+exec", m == MAP_FAILED ? -1 : 0);
	expect_eperm("unshare(CLONE_NEWUSER)", unshare(CLONE_NEWUSER));
	errno = 0;
	if ((pid = (pid_t)syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0,
	    0)) == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	expect_eperm("clone(CLONE_NEWNET)", pid > 0 ? 0 : pid);
	/* allowed, this would fail with ENOENT */
	expect_eperm("mount", mount("none", "/nonexistent-ddbgate-test",
	    "tmpfs", MS_RDONLY, NULL));
	expect_eperm("setuid", setuid(getuid()));
	expect_eperm("chroot", chroot("/"));
	expect_eperm("settimeofday", syscall(SYS_settimeofday, NULL, NULL));
#ifndef SANDBOX_SANITIZER_BUILD
	{
		char *const argv[] = { "x", NULL };

		/* allowed, these would fail with ENOENT and ESRCH */
		expect_eperm("execve", execve("/nonexistent-ddbgate-test",
		    argv, environ));
		expect_eperm("ptrace", ptrace(PTRACE_ATTACH, 0, NULL, NULL));
	}
#endif
}

static void
test_seccomp_enforced(void **state)
{
	(void)state;
	in_child(seccomp_child, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parent_directories),
		cmocka_unit_test(test_rules_from_config),
		cmocka_unit_test(test_sandbox_off),
		cmocka_unit_test(test_landlock_enforced),
		cmocka_unit_test(test_seccomp_enforced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
