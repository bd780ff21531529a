/*
 * bevwrite — writing a TLS bufferevent's output in this loop turn.
 *
 * libevent's socket-based TLS bufferevent does not write when data is
 * added to its output: it subscribes to EV_WRITE (epoll_ctl), writes when
 * the next epoll_wait says the socket is writable, and unsubscribes once
 * the output is empty (epoll_ctl again). For a request/response proxy that
 * is two system calls and one loop turn of latency per message per
 * direction, for a socket that is almost always writable.
 * bev_write_now() runs the bufferevent's own write callback from the
 * active queue of this loop turn instead: the data goes out with one
 * write(2), and the subscription, added and removed within the turn, never
 * reaches the kernel (the workers' bases use epoll's change list). Only
 * when the socket is full does the subscription stay, and the bufferevent
 * goes on as it always did.
 */
#ifndef DDBGATE_BEVWRITE_H
#define DDBGATE_BEVWRITE_H

struct bufferevent;

/*
 * Writes what bev's output holds now, later in this loop turn (after the
 * callbacks already due), as one TLS record when it is small. bev must be
 * a socket-based TLS bufferevent (bufferevent_openssl_socket_new) whose
 * handshake is done; any other bufferevent is left to write as usual.
 */
void bev_write_now(struct bufferevent *bev);

#endif
