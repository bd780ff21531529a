/*
 * tlsbev — see tlsbev.h.
 */
#include <stddef.h>

#include <openssl/ssl.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>

#include "tlsbev.h"

/*
 * A TLS bufferevent writes each piece of its output (an evbuffer chain)
 * with its own SSL_write: its own record and its own write(2). A message
 * assembled from pieces is joined first when it fits a record.
 */
#define JOIN_MAX 16384

/*
 * ev_read and ev_write are the bufferevent's own events (public in
 * bufferevent_struct.h). Activating one calls the TLS bufferevent's
 * handler as if epoll had reported the socket ready: the write handler
 * writes until the output is empty or the socket is full and deletes the
 * event when nothing is left; the read handler reads until OpenSSL wants
 * more from the socket, within the read high-water mark.
 */
void
tlsbev_write_now(struct bufferevent *bev)
{
	struct evbuffer *out = bufferevent_get_output(bev);
	size_t len = evbuffer_get_length(out);

	if (len == 0 || bufferevent_openssl_get_ssl(bev) == NULL ||
	    !event_initialized(&bev->ev_write))
		return;
	if (len <= JOIN_MAX && evbuffer_get_contiguous_space(out) < len)
		evbuffer_pullup(out, -1);
	event_active(&bev->ev_write, EV_WRITE, 0);
}

void
tlsbev_read_buffered(struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);

	if (ssl != NULL && SSL_has_pending(ssl) &&
	    (bufferevent_get_enabled(bev) & EV_READ) &&
	    event_initialized(&bev->ev_read))
		event_active(&bev->ev_read, EV_READ, 0);
}

void
tlsbev_enable_read(struct bufferevent *bev)
{
	bufferevent_enable(bev, EV_READ);
	tlsbev_read_buffered(bev);
}

/*
 * Any change of the input: bytes read (OpenSSL may hold more records) or
 * bytes consumed (reading may resume under the high-water mark). A nudge
 * that reads nothing changes nothing and ends the chain; one that reads
 * may leave part of the next record in OpenSSL, so the chain reads on
 * while the socket has data, until the read high-water mark stops it (the
 * bufferevent's own reading would do the same over several loop turns).
 * Every bufferevent set up for read-ahead therefore has a read high-water
 * mark or a peer whose flow control bounds it (HTTP/2).
 */
static void
on_input_change(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	if (info->n_added > 0 || info->n_deleted > 0)
		tlsbev_read_buffered(arg);
}

void
tlsbev_read_ahead(struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);

	/* no watch (out of memory), no read-ahead: it would stall */
	if (ssl != NULL && evbuffer_add_cb(bufferevent_get_input(bev),
	    on_input_change, bev) != NULL)
		SSL_set_read_ahead(ssl, 1);
}
