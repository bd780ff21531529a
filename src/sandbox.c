/*
 * sandbox — Landlock rules from the configuration and a seccomp filter,
 * both written against the kernel's own interfaces (no libseccomp).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/sched.h>
#include <linux/seccomp.h>

#include <openssl/x509.h>

#include "config.h"
#include "sandbox.h"
#include "xmalloc.h"

/* ---- the rules ---------------------------------------------------- */

struct rule {
	char *path;
	unsigned rights;
};

struct sandbox {
	struct rule *rules;
	size_t n, cap;
};

struct sandbox *
sandbox_new(void)
{
	return xcalloc(1, sizeof(struct sandbox));
}

void
sandbox_free(struct sandbox *sb)
{
	if (sb == NULL)
		return;
	for (size_t i = 0; i < sb->n; i++)
		free(sb->rules[i].path);
	free(sb->rules);
	free(sb);
}

void
sandbox_allow(struct sandbox *sb, const char *path, unsigned rights)
{
	if (path == NULL || *path == '\0' || rights == 0)
		return;
	for (size_t i = 0; i < sb->n; i++)
		if (strcmp(sb->rules[i].path, path) == 0) {
			sb->rules[i].rights |= rights;
			return;
		}
	if (sb->n == sb->cap) {
		sb->cap = sb->cap ? sb->cap * 2 : 16;
		sb->rules = xreallocarray(sb->rules, sb->cap,
		    sizeof(*sb->rules));
	}
	sb->rules[sb->n].path = xstrdup(path);
	sb->rules[sb->n].rights = rights;
	sb->n++;
}

void
sandbox_allow_parent(struct sandbox *sb, const char *file, unsigned rights)
{
	const char *slash;
	char *dir;

	if (file == NULL || *file == '\0')
		return;
	if ((slash = strrchr(file, '/')) == NULL) {
		sandbox_allow(sb, ".", rights);
		return;
	}
	if (slash == file) {
		sandbox_allow(sb, "/", rights);
		return;
	}
	dir = xstrndup(file, (size_t)(slash - file));
	sandbox_allow(sb, dir, rights);
	free(dir);
}

/* A log path is a file unless it is "-" (standard output) or "off". */
static void
allow_log(struct sandbox *sb, const char *path)
{
	if (path != NULL && strcmp(path, "-") != 0 && strcmp(path, "off") != 0)
		sandbox_allow_parent(sb, path, SANDBOX_READ | SANDBOX_WRITE);
}

void
sandbox_allow_config(struct sandbox *sb, const struct config *cfg,
    const char *config_path)
{
	const unsigned r = SANDBOX_READ;

	sandbox_allow_parent(sb, config_path, r);
	sandbox_allow_parent(sb, cfg->tls.ca_cert, r);
	sandbox_allow_parent(sb, cfg->tls.ca_key, r);
	for (size_t i = 0; i < cfg->tls.ncertificates; i++) {
		sandbox_allow_parent(sb, cfg->tls.certificates[i].cert, r);
		sandbox_allow_parent(sb, cfg->tls.certificates[i].key, r);
	}
	for (size_t i = 0; i < cfg->nlisteners; i++)
		sandbox_allow_parent(sb, cfg->listeners[i].proxy_auth_users, r);
	for (size_t i = 0; i < cfg->nendpoints; i++) {
		sandbox_allow_parent(sb, cfg->endpoints[i].ca_file, r);
		sandbox_allow_parent(sb, cfg->endpoints[i].policy, r);
	}
	sandbox_allow(sb, cfg->state_dir, SANDBOX_READ | SANDBOX_WRITE);
	allow_log(sb, cfg->access_log.path);
	allow_log(sb, cfg->audit.path);

	/*
	 * The resolver configuration, hosts and the trust store live in
	 * /etc. A directory rule rather than one per file, because tools
	 * that rewrite /etc/resolv.conf replace it by a rename, and a rule
	 * holds the inode it was given.
	 */
	sandbox_allow(sb, "/etc", r);
	sandbox_allow(sb, X509_get_default_cert_area(), r);
	sandbox_allow(sb, X509_get_default_cert_dir(), r);
	sandbox_allow_parent(sb, X509_get_default_cert_file(), r);
	sandbox_allow(sb, "/usr/share/ca-certificates", r);
	sandbox_allow(sb, "/usr/local/share/ca-certificates", r);
	sandbox_allow(sb, "/usr/share/zoneinfo", r);
	/* resolv.conf is often a link into /run (systemd-resolved, resolvconf) */
	{
		char target[4096];
		ssize_t len = readlink("/etc/resolv.conf", target,
		    sizeof(target) - 1);

		if (len > 0 && target[0] == '/') {
			target[len] = '\0';
			sandbox_allow_parent(sb, target, r);
		}
	}
	sandbox_allow(sb, "/sys/devices/system/cpu", r); /* the core count */
#ifdef SANDBOX_SANITIZER_BUILD
	sandbox_allow(sb, "/proc", r);
	sandbox_allow(sb, "/usr", r | SANDBOX_EXEC);
#endif
}

size_t
sandbox_nrules(const struct sandbox *sb)
{
	return sb->n;
}

const char *
sandbox_rule(const struct sandbox *sb, size_t i, unsigned *rights)
{
	if (i >= sb->n)
		return NULL;
	if (rights != NULL)
		*rights = sb->rules[i].rights;
	return sb->rules[i].path;
}

/* ---- Landlock ----------------------------------------------------- */

/* Rights newer than the kernel headers Debian 12 builds with. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

/* What a file (not a directory) can be granted. */
#define LL_FILE_RIGHTS                                                      \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |       \
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |    \
	    LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* Every file-system right an ABI version knows: all of them are handled,
 * so whatever no rule grants is denied. */
static uint64_t
handled_for_abi(int abi)
{
	uint64_t h = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1 */

	if (abi >= 2)
		h |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		h |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		h |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return h;
}

static uint64_t
landlock_rights(unsigned rights)
{
	uint64_t a = 0;

	if (rights & SANDBOX_READ)
		a |= LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	if (rights & SANDBOX_WRITE)
		a |= LANDLOCK_ACCESS_FS_WRITE_FILE |
		    LANDLOCK_ACCESS_FS_REMOVE_FILE |
		    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_TRUNCATE;
	if (rights & SANDBOX_EXEC)
		a |= LANDLOCK_ACCESS_FS_EXECUTE;
	return a;
}

int
sandbox_landlock(const struct sandbox *sb, char *msg, size_t msglen)
{
#ifdef SYS_landlock_create_ruleset
	struct landlock_ruleset_attr attr = { 0 };
	const char *missing = NULL;
	uint64_t handled;
	int abi, rfd;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		snprintf(msg, msglen, "%s", errno == EOPNOTSUPP ?
		    "Landlock is disabled in this kernel (boot with lsm=...,"
		    "landlock)" : "this kernel has no Landlock");
		return 0;
	}
	handled = handled_for_abi(abi);
	attr.handled_access_fs = handled;
	rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr),
	    0);
	if (rfd < 0) {
		snprintf(msg, msglen, "landlock_create_ruleset: %s",
		    strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sb->n; i++) {
		struct landlock_path_beneath_attr pb = { 0 };
		struct stat st;
		int fd;

		fd = open(sb->rules[i].path, O_PATH | O_CLOEXEC);
		if (fd < 0) {
			if (missing == NULL)
				missing = sb->rules[i].path;
			continue;
		}
		pb.parent_fd = fd;
		pb.allowed_access = landlock_rights(sb->rules[i].rights) &
		    handled;
		if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
			pb.allowed_access &= LL_FILE_RIGHTS;
		if (syscall(SYS_landlock_add_rule, rfd,
		    LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0) {
			snprintf(msg, msglen, "landlock_add_rule %s: %s",
			    sb->rules[i].path, strerror(errno));
			close(fd);
			close(rfd);
			return -1;
		}
		close(fd);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_landlock_restrict_self, rfd, 0) != 0) {
		snprintf(msg, msglen, "landlock_restrict_self: %s",
		    strerror(errno));
		close(rfd);
		return -1;
	}
	close(rfd);
	if (missing != NULL)
		snprintf(msg, msglen, "%s does not exist: not allowed", missing);
	else if (msglen > 0)
		msg[0] = '\0';
	return abi;
#else
	(void)sb;
	snprintf(msg, msglen, "built without Landlock support");
	return 0;
#endif
}

/* ---- seccomp ------------------------------------------------------ */

#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define SECCOMP_ARCH AUDIT_ARCH_I386
#elif defined(__arm__)
#define SECCOMP_ARCH AUDIT_ARCH_ARM
#elif defined(__riscv) && __riscv_xlen == 64
#define SECCOMP_ARCH AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SECCOMP_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define SECCOMP_ARCH AUDIT_ARCH_S390X
#endif

#ifdef SECCOMP_ARCH

/* System calls ddbgate never makes once it serves: denied with EPERM. */
static const int denied[] = {
#ifndef SANDBOX_SANITIZER_BUILD
	SYS_execve,
	SYS_ptrace,
#ifdef SYS_execveat
	SYS_execveat,
#endif
#endif
	SYS_process_vm_readv, SYS_process_vm_writev,
#ifdef SYS_kcmp
	SYS_kcmp,
#endif
	SYS_perf_event_open,
#ifdef SYS_bpf
	SYS_bpf,
#endif
#ifdef SYS_userfaultfd
	SYS_userfaultfd,
#endif
	/* mounts and namespaces */
	SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot, SYS_unshare,
	SYS_setns,
#ifdef SYS_open_tree
	SYS_open_tree, SYS_move_mount, SYS_fsopen, SYS_fsconfig, SYS_fsmount,
	SYS_fspick,
#endif
#ifdef SYS_mount_setattr
	SYS_mount_setattr,
#endif
	/* modules, kexec, reboot, swap, accounting, quotas, kernel log */
	SYS_init_module, SYS_finit_module, SYS_delete_module,
#ifdef SYS_kexec_load
	SYS_kexec_load,
#endif
#ifdef SYS_kexec_file_load
	SYS_kexec_file_load,
#endif
	SYS_reboot, SYS_swapon, SYS_swapoff, SYS_acct, SYS_quotactl,
#ifdef SYS_quotactl_fd
	SYS_quotactl_fd,
#endif
	SYS_syslog,
	/* clocks and names of the host */
	SYS_settimeofday, SYS_clock_settime, SYS_clock_adjtime, SYS_adjtimex,
	SYS_sethostname, SYS_setdomainname,
	/* identities and capabilities: dropped before this point */
	SYS_setuid, SYS_setgid, SYS_setreuid, SYS_setregid, SYS_setresuid,
	SYS_setresgid, SYS_setfsuid, SYS_setfsgid, SYS_setgroups, SYS_capset,
	SYS_personality,
	/* keys, handles, io_uring, device nodes */
	SYS_add_key, SYS_request_key, SYS_keyctl, SYS_name_to_handle_at,
	SYS_open_by_handle_at,
#ifdef SYS_io_uring_setup
	SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register,
#endif
	SYS_mknodat,
#ifdef SYS_mknod
	SYS_mknod,
#endif
#ifdef SYS_iopl
	SYS_iopl,
#endif
#ifdef SYS_ioperm
	SYS_ioperm,
#endif
#ifdef SYS_vhangup
	SYS_vhangup,
#endif
#ifdef SYS_uselib
	SYS_uselib,
#endif
#ifdef SYS_ustat
	SYS_ustat,
#endif
#ifdef SYS_sysfs
	SYS_sysfs,
#endif
#ifdef SYS_lookup_dcookie
	SYS_lookup_dcookie,
#endif
};

/* clone flags that make new namespaces (CLONE_NEWTIME shares its bit
 * with the exit signal in clone(), so only clone3 could ask for it, and
 * clone3 is refused as a whole). */
#define CLONE_NAMESPACES                                                    \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |      \
	    CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

#define NR_OFF offsetof(struct seccomp_data, nr)
#define ARCH_OFF offsetof(struct seccomp_data, arch)
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#else
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#endif

#define PROG_MAX 200

/* A program being written: jumps to the shared "deny" return at its end
 * are patched once its place is known. */
struct prog {
	struct sock_filter ins[PROG_MAX];
	size_t n;
	size_t to_deny[PROG_MAX], nto_deny; /* jt of these goes to deny */
};

static void
emit(struct prog *p, struct sock_filter f)
{
	if (p->n < PROG_MAX)
		p->ins[p->n] = f;
	p->n++;
}

/* A conditional jump whose true branch goes to deny. */
static void
emit_deny_if(struct prog *p, uint16_t code, uint32_t k)
{
	if (p->nto_deny < PROG_MAX)
		p->to_deny[p->nto_deny++] = p->n;
	emit(p, (struct sock_filter)BPF_JUMP(code, k, 0, 0));
}

/* Resolves the jumps to deny; -1 when an offset does not fit in 8 bits. */
static int
patch(struct prog *p, size_t deny_at)
{
	for (size_t i = 0; i < p->nto_deny; i++) {
		size_t from = p->to_deny[i];

		if (deny_at - from - 1 > 255)
			return -1;
		p->ins[from].jt = (uint8_t)(deny_at - from - 1);
	}
	return 0;
}

/* if nr == sys: load argument arg; deny when (arg & mask) == value,
 * else allow. Five instructions. */
static void
emit_arg_check(struct prog *p, int sys, unsigned arg, uint32_t mask,
    uint32_t value)
{
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    (uint32_t)sys, 0, 4));
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    ARG_LO(arg)));
	emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask));
	emit_deny_if(p, BPF_JMP | BPF_JEQ | BPF_K, value);
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW));
}

static size_t
build(struct prog *p)
{
	size_t ndenied = sizeof(denied) / sizeof(denied[0]);
	const struct sock_filter kill = BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS);
	size_t deny_at;

	/* another system call ABI than the one built for: never ours */
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    ARCH_OFF));
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    SECCOMP_ARCH, 1, 0));
	emit(p, kill);
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    NR_OFF));
#if defined(__x86_64__)
	/* x32 system calls share the architecture value */
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
	    0x40000000u, 0, 1));
	emit(p, kill);
#endif
	for (size_t i = 0; i < ndenied; i++)
		emit_deny_if(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)denied[i]);

	/* threads only: clone3's flags are out of reach behind a pointer,
	 * so it answers ENOSYS and the C library falls back to clone */
#ifdef SYS_clone3
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    SYS_clone3, 0, 1));
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ERRNO | ENOSYS));
#endif
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    SYS_clone, 0, 3));
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    ARG_LO(0)));
	emit_deny_if(p, BPF_JMP | BPF_JSET | BPF_K, CLONE_NAMESPACES);
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW));

	/* no memory both writable and executable, nor made executable later */
	emit_arg_check(p, SYS_mmap, 2, PROT_WRITE | PROT_EXEC,
	    PROT_WRITE | PROT_EXEC);
	emit_arg_check(p, SYS_mprotect, 2, PROT_EXEC, PROT_EXEC);
#ifdef SYS_pkey_mprotect
	emit_arg_check(p, SYS_pkey_mprotect, 2, PROT_EXEC, PROT_EXEC);
#endif
#ifdef SYS_shmat
	emit_arg_check(p, SYS_shmat, 2, SHM_EXEC, SHM_EXEC);
#endif

	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW));
	deny_at = p->n;
	emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ERRNO | EPERM));
	if (p->n > PROG_MAX || patch(p, deny_at) != 0)
		return 0;
	return ndenied;
}

int
sandbox_seccomp(char *msg, size_t msglen)
{
	struct prog p = { .n = 0 };
	struct sock_fprog fprog;
	size_t ndenied;

	if ((ndenied = build(&p)) == 0) {
		snprintf(msg, msglen, "seccomp program does not fit");
		return -1;
	}
	fprog.len = (unsigned short)p.n;
	fprog.filter = p.ins;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(msg, msglen, "PR_SET_NO_NEW_PRIVS: %s",
		    strerror(errno));
		return -1;
	}
	/* TSYNC: every thread that exists already gets the filter too */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_TSYNC, &fprog) != 0) {
		if (errno == ENOSYS || errno == EINVAL) {
			snprintf(msg, msglen, "this kernel has no seccomp "
			    "filters (%s)", strerror(errno));
			return 0;
		}
		snprintf(msg, msglen, "seccomp: %s", strerror(errno));
		return -1;
	}
	if (msglen > 0)
		msg[0] = '\0';
	return (int)ndenied;
}

#else /* no SECCOMP_ARCH */

int
sandbox_seccomp(char *msg, size_t msglen)
{
	snprintf(msg, msglen, "no seccomp filter for this architecture");
	return 0;
}

#endif
