/*
 * bevwrite — see bevwrite.h.
 */
#include <stddef.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>

#include "bevwrite.h"

/*
 * A TLS bufferevent writes each piece of its output (an evbuffer chain)
 * with its own SSL_write: its own record and its own write(2). A message
 * assembled from pieces (a response head copied out of the upstream's
 * buffer, then its body) is joined first when it fits a record.
 */
#define JOIN_MAX 16384

void
bev_write_now(struct bufferevent *bev)
{
	struct evbuffer *out = bufferevent_get_output(bev);
	size_t len = evbuffer_get_length(out);

	if (len == 0 || bufferevent_openssl_get_ssl(bev) == NULL ||
	    !event_initialized(&bev->ev_write))
		return;
	if (len <= JOIN_MAX && evbuffer_get_contiguous_space(out) < len)
		evbuffer_pullup(out, -1);
	/*
	 * ev_write is the bufferevent's own write event (public in
	 * bufferevent_struct.h); activating it calls the TLS bufferevent's
	 * write handler as if epoll had reported the socket writable. The
	 * handler writes until the output is empty or the socket is full,
	 * and deletes the event when nothing is left.
	 */
	event_active(&bev->ev_write, EV_WRITE, 0);
}
