/* SPDX-License-Identifier: MIT */
/* client.h - the client connections of one worker, as proxy.c sees them: accepted, sent the
 * intercept's commands, closed at shutdown (the state they share is env.h's). Everything
 * after the accept happens on the worker's thread, in client.c and the modules it drives
 * (conn-t.h lists them). */
#ifndef CLIENT_H
#define CLIENT_H

#include "env.h"
#include "intercept.h"
#include "proxy-t.h"

#include <event2/util.h>

/* Takes over a client socket accepted on l (borrowed: it outlives the connection); closes
 * it on failure. */
void client_accept(struct env_worker *w, evutil_socket_t fd, const struct sockaddr *addr,
		   int addrlen, const struct proxy_listener *l);
/* On the worker thread of conn (a struct conn; intercept.c's job, as the registry's
 * intercept_run_fn): resumes, edits or kills the flow id it holds paused. Takes edit (may be
 * NULL); a no-op when it no longer holds it paused. */
void client_command(void *conn, uint64_t id, enum intercept_cmd cmd, struct flow *edit);
/* Closes every connection of w, ending open flows with error `why` (shutdown). */
void client_close_all(struct env_worker *w, const char *why);

#endif
