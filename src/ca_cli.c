/*
 * ca_cli — `ddbgate ca init` (create the gateway CA and say how clients
 * trust it) and `ddbgate passwd` (a users-file line for connect-mode
 * proxy authentication).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ca.h"
#include "ca_cli.h"
#include "config.h"
#include "proxyauth.h"
#include "xmalloc.h"

#define MAX_DOMAINS 64

static const char usage_ca[] =
    "usage: ddbgate ca init [-c FILE] [--dir DIR]\n"
    "\n"
    "Create the gateway CA that mints certificates for intercepted names:\n"
    "DIR/ca.pem (certificate, give it to clients) and DIR/ca.key (private\n"
    "key, readable by its owner only). The CA is ECDSA P-256 and carries\n"
    "X.509 name constraints: it can only sign names under the domains of\n"
    "the endpoint hosts of FILE (default: the built-in defaults, i.e.\n"
    "amazonaws.com). Existing files are never overwritten.\n"
    "\n"
    "  -c, --config FILE  configuration whose endpoint hosts set the domains\n"
    "      --dir DIR      where to write (default: the state directory)\n"
    "  -h, --help         this text\n"
    "\n"
    "Exit status: 0 created, 1 failed, 2 usage error.\n";

static const char usage_passwd[] =
    "usage: ddbgate passwd USER\n"
    "\n"
    "Read a password (twice from a terminal, else one line of standard\n"
    "input) and print a line for a listener's proxy_auth_users file:\n"
    "USER:$scrypt$ln=15,r=8,p=1$SALT$KEY\n"
    "\n"
    "Exit status: 0 printed, 1 failed, 2 usage error.\n";

/*
 * The domain a host belongs to, for a name constraint: its last two
 * labels ("amazonaws.com"), three under a two-label public suffix
 * ("amazonaws.com.cn").
 */
static void
host_domain(const char *host, char *out, size_t outlen)
{
	static const char *const two_label[] = { ".com.cn", ".co.uk",
		".com.au" };
	size_t len = strlen(host), want = 2, dots = 0;
	const char *p = host + len;

	for (size_t i = 0; i < sizeof(two_label) / sizeof(two_label[0]); i++)
		if (len > strlen(two_label[i]) &&
		    strcmp(host + len - strlen(two_label[i]), two_label[i]) == 0)
			want = 3;
	while (p > host) {
		if (p[-1] == '.' && ++dots == want)
			break;
		p--;
	}
	snprintf(out, outlen, "%s", p);
}

static size_t
collect_domains(const struct config *cfg, char domains[][256])
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->nendpoints; i++)
		for (size_t j = 0; j < cfg->endpoints[i].nhosts; j++) {
			char d[256];
			bool seen = false;

			host_domain(cfg->endpoints[i].hosts[j], d, sizeof(d));
			for (size_t k = 0; k < n && !seen; k++)
				seen = strcmp(domains[k], d) == 0;
			if (!seen && n < MAX_DOMAINS)
				snprintf(domains[n++], 256, "%s", d);
		}
	return n;
}

static void
print_trust(const char *dir, char domains[][256], size_t n)
{
	printf("created the gateway CA\n"
	    "  certificate  %s/ca.pem  (give this to clients)\n"
	    "  private key  %s/ca.key  (mode 0600; keep it on this host)\n"
	    "  signs only names under:", dir, dir);
	for (size_t i = 0; i < n; i++)
		printf(" %s", domains[i]);
	printf("\n\nconfiguration:\n"
	    "  tls:\n    ca_cert: %s/ca.pem\n    ca_key: %s/ca.key\n\n"
	    "clients trust it with:\n"
	    "  AWS CLI, boto3   export AWS_CA_BUNDLE=%s/ca.pem (replaces the "
	    "bundle:\n"
	    "                   append it to a copy of the system bundle if "
	    "other\n"
	    "                   AWS traffic does not go through the gateway)\n"
	    "  Node.js SDK v3   export NODE_EXTRA_CA_CERTS=%s/ca.pem, or "
	    "the agent's ca option\n"
	    "  Java SDK         keytool -importcert -cacerts -alias ddbgate "
	    "-file %s/ca.pem\n"
	    "  Go SDK           SSL_CERT_FILE, or RootCAs of the http.Client's "
	    "TLS config\n"
	    "  Debian, Ubuntu   cp %s/ca.pem /usr/local/share/ca-certificates/"
	    "ddbgate.crt\n"
	    "                   && update-ca-certificates\n"
	    "  RHEL, Amazon Linux  cp %s/ca.pem /etc/pki/ca-trust/source/"
	    "anchors/ddbgate.pem\n"
	    "                   && update-ca-trust\n",
	    dir, dir, dir, dir, dir, dir, dir);
}

static int
ca_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[CONFIG_ERR_MAX + 256], (*domains)[256];
	const char *path = NULL, *dir = NULL, *list[MAX_DOMAINS];
	struct config *cfg;
	size_t n;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'D':
			dir = optarg;
			break;
		case 'h':
			fputs(usage_ca, stdout);
			return 0;
		default:
			fputs(usage_ca, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ddbgate: unexpected argument '%s'\n%s",
		    argv[optind], usage_ca);
		return 2;
	}
	cfg = path ? config_load_file(path, err, sizeof(err)) :
	    config_defaults(err, sizeof(err));
	if (cfg == NULL) {
		fprintf(stderr, "ddbgate: %s\n", err);
		return 1;
	}
	if (dir == NULL)
		dir = cfg->state_dir;
	domains = xcalloc(MAX_DOMAINS, sizeof(*domains));
	n = collect_domains(cfg, domains);
	for (size_t i = 0; i < n; i++)
		list[i] = domains[i];
	rc = ca_create(dir, list, n, err, sizeof(err));
	if (rc == 0)
		print_trust(dir, domains, n);
	else
		fprintf(stderr, "ddbgate: ca init: %s\n", err);
	free(domains);
	config_free(cfg);
	return rc == 0 ? 0 : 1;
}

int
ca_cli_main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "init") == 0)
		return ca_init(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		fputs(usage_ca, stdout);
		return 0;
	}
	fputs(usage_ca, stderr);
	return 2;
}

/* One line from the terminal without echo, or from a pipe as it is. */
static bool
read_password(const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) &&
	    tcgetattr(STDIN_FILENO, &old) == 0;
	bool ok;

	if (tty) {
		fputs(prompt, stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	ok = fgets(buf, (int)len, stdin) != NULL;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!ok)
		return false;
	buf[strcspn(buf, "\r\n")] = '\0';
	return true;
}

int
passwd_cli_main(int argc, char **argv)
{
	char pw[1024], again[1024], line[512];

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		fputs(usage_passwd, stdout);
		return 0;
	}
	if (argc != 2) {
		fputs(usage_passwd, stderr);
		return 2;
	}
	if (!read_password("password: ", pw, sizeof(pw)) ||
	    (isatty(STDIN_FILENO) && (!read_password("again: ", again,
	    sizeof(again)) || strcmp(pw, again) != 0))) {
		fprintf(stderr, "ddbgate: passwd: no password, or the two "
		    "differ\n");
		return 1;
	}
	if (proxyauth_hash_line(argv[1], pw, line, sizeof(line)) != 0) {
		fprintf(stderr, "ddbgate: passwd: a user name is 1 to 64 of "
		    "A-Z a-z 0-9 . _ @ - and the password must not be empty\n");
		return 1;
	}
	printf("%s\n", line);
	return 0;
}
