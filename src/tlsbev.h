/*
 * tlsbev — two economies for libevent's socket-based TLS bufferevents
 * (bufferevent_openssl_socket_new) on the request path.
 *
 * Writing now. Such a bufferevent does not write when data is added to
 * its output: it subscribes to EV_WRITE (epoll_ctl), writes when the next
 * epoll_wait says the socket is writable, and unsubscribes once the output
 * is empty (epoll_ctl again): two system calls and one loop turn of
 * latency per message per direction, for a socket that is almost always
 * writable. tlsbev_write_now() runs the bufferevent's own write handler
 * from the active queue of this loop turn instead: the data goes out with
 * one write(2), and the subscription, added and removed within the turn,
 * never reaches the kernel (the workers' bases use epoll's change list).
 * When the socket is full the subscription stays, as it always did.
 *
 * Reading ahead. Without it OpenSSL reads a record with two read(2)s, its
 * 5-byte header, then its body. With read-ahead one read(2) takes what the
 * socket holds, which may be more than one record; the bufferevent,
 * though, only goes on reading while SSL_pending() (the current record)
 * says so, and records OpenSSL holds unprocessed would wait for the
 * socket to become readable again — which may never happen. So a
 * bufferevent set up with tlsbev_read_ahead() is nudged to read again
 * (its own read handler, from the active queue) whenever OpenSSL holds
 * data: after every change of its input buffer (what it read; what the
 * session consumed, which may lift the read high-water mark), when the
 * session turns reading on with tlsbev_enable_read() (never plain
 * bufferevent_enable(EV_READ) on such a bufferevent), and after the
 * handshake (tlsbev_read_buffered()). A chain of nudges reads on while the socket
 * has data: give such a bufferevent a read high-water mark (or a peer
 * whose flow control bounds what it sends).
 */
#ifndef DDBGATE_TLSBEV_H
#define DDBGATE_TLSBEV_H

struct bufferevent;

/*
 * Writes what bev's output holds now, later in this loop turn (after the
 * callbacks already due), as one TLS record when it is small. A
 * bufferevent that is not a socket-based TLS one writes as usual.
 */
void tlsbev_write_now(struct bufferevent *bev);

/*
 * Turns read-ahead on for bev's SSL and watches its input buffer (see
 * above). Call it once, right after creating bev, before the handshake.
 * A bufferevent that is not a socket-based TLS one is left as it is.
 */
void tlsbev_read_ahead(struct bufferevent *bev);

/*
 * When OpenSSL holds data bev has not read and bev reads, bev reads it
 * later in this loop turn. For after the handshake.
 */
void tlsbev_read_buffered(struct bufferevent *bev);

/* bufferevent_enable(bev, EV_READ), then tlsbev_read_buffered(bev). */
void tlsbev_enable_read(struct bufferevent *bev);

#endif
