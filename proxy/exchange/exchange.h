/* SPDX-License-Identifier: MIT */
/* exchange.h - one request/response as one flow, whatever protocol carried it: the flow's
 * events (BEGIN, UPDATE, END) and timings, the rules of the moment (block, intercept), the
 * intercept's hold, pause, edit and resume, the body cap. The protocol side (today HTTP/1 in
 * h1server.c) moves the bytes and tells the exchange what happened; the exchange never
 * touches the client's socket. Towards the origin, origin.h drives x->up and gives back to the
 * protocol module through x->down (struct exchange_downstream): one request = one struct
 * exchange, whatever carried it.
 *
 *   exchange_start(&x, ...)          a request head came: a new flow (the head goes into it)
 *   exchange_decide(&x, &hold)       block status, or whether to hold the request
 *   exchange_emit(&x, FLOW_EV_BEGIN) ... UPDATE ... END (or exchange_fail(&x, why)); or
 *   exchange_begin_soon(&x): the BEGIN only if neither UPDATE nor END came first (begins.h)
 *   exchange_pause(&x, side, ...)    paused; intercept.c sends the user's edit, resume or kill
 *   exchange_apply_edit(&x, edit, ...)
 */
#ifndef EXCHANGE_H
#define EXCHANGE_H

#include "begins.h"
#include "flow.h"

#include <stddef.h>
#include <stdint.h>

struct env;
struct event_base;
struct evbuffer;
struct upstream;

/* The side of an exchange the intercept holds. */
enum exchange_side {
	EXCHANGE_NONE = 0,
	EXCHANGE_REQUEST = 1,
	EXCHANGE_RESPONSE = 2,
};

/* How a response ended (on_response_end). */
enum {
	EXCHANGE_END_UPGRADED = 1,    /* 101 accepted: bytes go on raw both ways; the flow stays */
	EXCHANGE_END_UNTIL_CLOSE = 2, /* its body ran until the origin closed: close the client */
};

/* What the exchange gives back to the protocol module that carries it (HTTP/1 in h1relay.c;
 * an HTTP/2 stream next). Each runs with down_arg, inside the connection's callbacks. */
struct exchange_downstream {
	/* n bytes of the response, framed as the origin sent them (head and body), are at the
	 * front of src: move them to the client (evbuffer_remove_buffer: no copy). The fast
	 * path of a protocol that speaks the origin's HTTP/1 framing; x->flow has the head and
	 * the body's capped copy already. */
	void (*on_response_raw)(void *arg, struct evbuffer *src, size_t n);
	/* The decoded path, for a protocol with a framing of its own (HTTP/2 next), taken when
	 * on_response_raw is NULL: the final response head (borrowed; 1xx are not passed on),
	 * then the body de-chunked, in pieces (borrowed: the callee copies what it keeps). */
	void (*on_response_head)(void *arg, const struct flow_msg *head);
	void (*on_response_body)(void *arg, const char *data, size_t len);
	/* A held response goes out whole from m (head; the body unless bodyless). */
	void (*on_response_msg)(void *arg, const struct flow_msg *m, int bodyless);
	/* The response is complete (EXCHANGE_END_* in how); the flow went to the sink unless
	 * UPGRADED. The upstream was dropped unless it may carry another request. */
	void (*on_response_end)(void *arg, unsigned how);
	/* The exchange failed with msg: an error page (status, reason) when nothing of a
	 * response reached the client, else a cut; the flow ends with msg as its error. */
	void (*on_error_page)(void *arg, int status, const char *reason, const char *msg);
	/* Backpressure: 1 when the client cannot take more now; the protocol asks for the
	 * upstream to be pumped again once it drained. */
	int (*is_full)(void *arg);
	void (*on_pause_reading)(void *arg);  /* the upstream is being reached: request waits */
	void (*on_resume_reading)(void *arg); /* the upstream is up: read the request on */
	/* The side is held whole: pause for the user (register, stop timeouts). */
	void (*on_paused)(void *arg, enum exchange_side side);
	/* May be NULL. A protocol that can carry the request itself (HTTP/2 to an h2 origin):
	 * origin_forward() offers it the routed request in x->flow, with body (may be NULL: its
	 * bytes are moved out) to send first. Returns 1 when it took the request (the response
	 * then comes through origin_sink() and origin_response_done()), 0: HTTP/1.1 on x->up. */
	int (*on_forward)(void *arg, struct evbuffer *body);
};

struct exchange {
	const struct env *env;	   /* borrowed: sink, rules, intercept registry, limits */
	struct flow *flow;	   /* owned: the exchange (or tunnel) in progress; may be NULL */
	struct flow *spare;	   /* owned: the last flow, emptied for the next one, or NULL */
	int begun;		   /* FLOW_EV_BEGIN was emitted (or is put off) for flow */
	struct begin_wait begin;   /* the BEGIN put off (exchange_begin_soon()), if linked */
	int update_due;		   /* response head seen: emit FLOW_EV_UPDATE unless it ends now */
	const char *note;	   /* why an intercept did not happen; recorded as the error */
	enum exchange_side hold;   /* the side being read whole before the pause */
	enum exchange_side paused; /* the paused side (registered in env->ic) */
	uint64_t paused_id;	   /* the registered flow id while paused */
	size_t charged;		   /* bytes of the intercept budget this exchange holds */
	char *authority;	   /* owned: Host to send (absolute-form target), or NULL */

	/* Where the request and its response are (one exchange per request). */
	int64_t req_start;	   /* first byte of the request */
	int req_done;		   /* the whole request went up (or was read, when answered here) */
	int resp_started;	   /* response bytes reached the client: no error page possible */
	int resp_final;		   /* the final (non-1xx) response head was seen */
	int local_answer;	   /* answered by the proxy itself (CA page, block rule) */
	int reused;		   /* the request went on a kept-alive upstream connection */
	int retried;		   /* ... and was already sent again on a new one */
	struct evbuffer *held;	   /* owned: a held body as framed (the decoded path: the
				    * response body de-chunked), or NULL */
	struct evbuffer *head_out; /* owned: the request head waiting for the upstream, or NULL */
	struct evbuffer *resp_head; /* owned: a response head parsed so far, held until it is
				     * whole and valid (origin.c), or NULL */
	struct flow_buf head_text;  /* owned: where heads are written; kept for its space */

	/* Who the exchange talks to (origin.c drives them). */
	struct upstream *up;			/* borrowed: the upstream connection to use */
	const struct exchange_downstream *down; /* borrowed: the protocol module */
	void *down_arg;				/* passed to down */
	const char *via_host, *via_sni;		/* borrowed: the client's tunnel and SNI */
	const char *mode; /* borrowed: the listener's label, copied into each flow, or NULL */
	unsigned events;  /* ORIGIN_EV_*: during one feed */
};

/* Sets x up, empty, for env (borrowed). */
void exchange_init(struct exchange *x, const struct env *env);
/* Unregisters a pause and frees what x owns; the flow, if any, is freed without an event. */
void exchange_clear(struct exchange *x);

/* A new flow for a request from client_addr that started at start (0: now), replacing (and
 * freeing, without an event) the one x held. Returns it; x owns it. */
struct flow *exchange_start(struct exchange *x, const char *client_addr, int64_t start);
/* Hands the flow to the sink: BEGIN and UPDATE send a copy, END the flow itself (x->flow is
 * NULL afterwards; an END fills in the end time, the DONE state and x->note as the error). */
void exchange_emit(struct exchange *x, enum flow_event ev);
/* BEGIN for x->flow, put off for BEGINS_DELAY_US (begins.h): skipped if an UPDATE or the END
 * comes first (they write the whole flow), sent at once by exchange_clear() and
 * exchange_start() (as a BEGIN was before: the flow stays pending in the store). */
void exchange_begin_soon(struct exchange *x);
/* Ends x->flow with error msg (BEGIN first if it was never emitted). No-op without a flow. */
void exchange_fail(struct exchange *x, const char *msg);

/* The options and rules of this moment for x->flow's request: with anticache on, its
 * If-None-Match and If-Modified-Since go first; returns the block status (0: none) and sets
 * *hold when the intercept rule matches (never both). */
int exchange_decide(struct exchange *x, int *hold);
/* Fills x->flow's response with the block rule's answer for status; *type and *body (its
 * *len bytes) are the page to send, constant strings. */
void exchange_block_answer(struct exchange *x, int status, const char **type, const char **body,
			   size_t *len);
/* The final response head is in x->flow: sets x->hold to EXCHANGE_RESPONSE when the intercept
 * rule says so (and the announced body fits the limit; else the note says why not). */
void exchange_check_response_hold(struct exchange *x);
/* Holding side of x->flow is given up because its body is over the limit: logs it and notes
 * why on the flow. */
void exchange_not_held(struct exchange *x, enum exchange_side side);
/* Charges n more held bytes of x->flow to the intercept budget (intercept.h). Returns 0, or -1
 * when they do not fit: then the side is not held (exchange_over_budget()). */
int exchange_charge(struct exchange *x, size_t n);
/* Gives back all x charged (the hold or pause ended). */
void exchange_uncharge(struct exchange *x);
/* Holding side of x->flow is given up because the intercept budget is used up: logs it and
 * notes why on the flow. */
void exchange_over_budget(struct exchange *x, enum exchange_side side);
/* 1 when the request announces a body larger than what may be held. */
int exchange_request_too_big(const struct exchange *x);

/* Pauses x->flow (side held whole), registered for owner (the client connection the
 * intercept's commands go to) on the loop base; emits an UPDATE. */
void exchange_pause(struct exchange *x, enum exchange_side side, struct event_base *base,
		    void *owner);
/* Unregisters the pause (a no-op when not paused); the flow is pending again. */
void exchange_unpause(struct exchange *x);
/* Applies the user's edit to the paused side of x->flow (see proxy_resume in proxy.h):
 * strings that are set, a non-zero port or status, the headers when it has any, the body
 * exactly when body.data is set. An absolute URL as the request target moves the request
 * (scheme, host, port, path; x->authority follows). Returns 0, or -1 with a message in err. */
int exchange_apply_edit(struct exchange *x, const struct flow *edit, char *err, size_t errlen);

/* The message is sent whole from m: no Transfer-Encoding, Content-Length = its body. */
void exchange_reframe(struct flow_msg *m);
/* Removes every header named name (case-insensitive) from m. */
void exchange_remove_headers(struct flow_msg *m, const char *name);
/* Drops the cookie pair named name from each Cookie header of m; a header left empty goes.
 * The web UI's token is never recorded nor forwarded. name NULL or "": nothing to drop. */
void exchange_strip_cookie(struct flow_msg *m, const char *name);

#endif
