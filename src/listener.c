/*
 * listener — see listener.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "listener.h"

#define LISTEN_BACKLOG 1024

int
listener_open(const struct conf_listener *l, char *err, size_t errlen)
{
	int one = 1;
	int fd;

	fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", l->address,
		    strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    (l->addr.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) < 0)) {
		snprintf(err, errlen, "%s: setsockopt: %s", l->address,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) < 0) {
		snprintf(err, errlen, "%s: bind: %s%s", l->address,
		    strerror(errno), errno == EACCES ?
		    " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" :
		    "");
		close(fd);
		return -1;
	}
	if (listen(fd, LISTEN_BACKLOG) < 0) {
		snprintf(err, errlen, "%s: listen: %s", l->address,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
