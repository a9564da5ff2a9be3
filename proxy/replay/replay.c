/* SPDX-License-Identifier: MIT */
/* replay.c - sending a recorded (possibly edited) request again from the proxy's own upstream
 * client, and recording the exchange as a new flow (FLOW_F_REPLAY, replay_of).
 *
 *   web thread                              worker thread (the job's worker)
 *   proxy_replay(): check and rebuild the
 *   request, new flow, emit BEGIN, post
 *   the job to the worker's mailbox ─────►  on_arrive(): job -> its lane; on_wake(): start
 *                                           open lanes
 *                                           job: DNS -> TCP -> (TLS) -> send -> response
 *                                           head (the lane's next job may start) -> body
 *                                           -> emit END (done or error) -> job freed
 *
 * Order: a job goes to the worker chosen by a hash of scheme://host:port, and on that worker
 * into the lane (FIFO) of that same key. A lane starts its next job only once the upstream
 * answered the previous one (response head) or that one ended, so replays of one host:port
 * reach it, and are handled by it, in the order proxy_replay() was called, while long
 * response bodies still download side by side. Different lanes run at once. The price: an
 * upstream that never answers holds its lane up to the timeout.
 *
 * The request is checked and rebuilt as it goes out by replayreq.c (with the live anticache
 * option on, without its conditional headers, as proxied requests go).
 *
 * An HTTP/2 flow is replayed over HTTP/2 when the origin still agrees to h2 in ALPN (h2once.c,
 * one stream), else over HTTP/1.1 and recorded so.
 *
 * The upstream side is conn.c's: the same upstream client (upstream.c: dial.c on the
 * worker's resolver, one timeout for connect, handshake and response, the same SSL_CTX with
 * verification unless --ssl-insecure) and the same timings and TLS details in the flow. There
 * is no client: the response is parsed with http1 and stored (capped at body_limit), never
 * relayed. A replay of a flow that came through an upstream: listener goes through that
 * listener's proxy again (proxy.c picks it). A replay
 * that a block rule matches is answered by the rule (no upstream) as a proxied request is;
 * intercept rules do not pause replays (as in mitmproxy: the user is already at the flow).
 *
 * Ownership: a replay_worker owns its wake event, its lanes and its started jobs
 * (rw->running); the worker's mailbox (mailbox.h, proxy.c's) owns a job from replay_start()
 * until it arrives on the worker, and ends it if it never does (shutdown); a lane owns its
 * queued jobs and points at the started one it waits for (gate); a job owns its flow until
 * END and its upstream connection (struct upstream: bufferevent, parser, dial). Each libevent
 * callback of a job brackets its work in enter()/leave(); a started job is freed by leave()
 * once no callback of it is on the stack, or at shutdown by replay_worker_close_all(), which
 * runs outside any job callback. */
#include "replay.h"

#include "alpn.h"
#include "env.h"
#include "flow.h"
#include "h2once.h"
#include "http1.h"
#include "mailbox.h"
#include "replayreq.h"
#include "rules.h"
#include "upstream.h"
#include "util.h"
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>

/* Events the parser callbacks report to the read loop. */
enum { EV_HEAD = 1, EV_END = 2 };

struct job;

/* The jobs of one scheme://host:port on one worker. The next one starts once the upstream
 * answered the one before (its response head came) or that one ended. */
struct lane {
	char *key;		 /* owned: "https://host:port" */
	struct job *head, *tail; /* owned: queued jobs, not started */
	struct job *gate;	 /* borrowed: the started job not answered yet, or NULL */
	struct lane *next;	 /* in rw->lanes */
};

/* Worker thread only, but for mb, through which other threads hand jobs over. */
struct replay_worker {
	struct env_worker *w; /* borrowed */
	struct mailbox *mb;   /* borrowed: the worker's */
	struct event *wake;   /* owned: activated when jobs arrive and when a job ends */
	struct lane *lanes;   /* owned */
	struct job *running;  /* owned: started jobs (list) */
};

struct job {
	struct replay_worker *rw;	 /* borrowed */
	struct lane *lane;		 /* borrowed: while queued in it or its gate; else NULL */
	struct job *next;		 /* in the lane's queue */
	struct job *prev_run, *next_run; /* in rw->running once started */
	struct flow *flow;		 /* owned until END is emitted */
	char *key;			 /* owned: the lane key */
	char *wire;			 /* owned: the request as sent (head and body) */
	size_t wire_len;
	struct upstream up; /* the connection; initialized when the job starts */
	/* the upstream proxy to go through (borrowed strings), or none */
	struct dial_via via;
	int started;	   /* up is initialized */
	unsigned events;   /* EV_* reported during one feed */
	int resp_final;	   /* the final (non-1xx) head was seen */
	int update_due;	   /* that head is not reported yet */
	int finished;	   /* END emitted: free on leave() */
	struct h2once *h2; /* owned: the request over HTTP/2 when the origin agreed to h2 */
	unsigned depth;	   /* callbacks of this job on the stack */
};

static const struct env *env(const struct job *j)
{
	return j->rw->w->env;
}

/* ---------------------------------------------------------------------------------------- */
/* Jobs (worker thread) */

static void emit_end(struct job *j)
{
	struct flow *f = j->flow;
	const struct flow_sink *s = &env(j)->cfg->sink;
	j->flow = NULL;
	if (!f->t.end)
		f->t.end = util_now_us();
	if (f->state == FLOW_PENDING || f->state == FLOW_PAUSED)
		f->state = FLOW_DONE;
	if (s->emit)
		s->emit(s->arg, FLOW_EV_END, f);
	else
		flow_free(f);
}

/* Ends the job's flow (with msg as its error, or done when msg is NULL); freed on leave(). */
static void finish(struct job *j, const char *msg)
{
	if (j->finished)
		return;
	j->finished = 1;
	if (msg) {
		flow_set_error(j->flow, msg);
		log_debug("replay of %s: %s", j->key, msg);
	}
	emit_end(j);
}

/* The upstream answered j (or j ended): its lane's next job may start. */
static void open_gate(struct job *j)
{
	struct lane *l = j->lane;
	if (!l || l->gate != j)
		return;
	l->gate = NULL;
	j->lane = NULL;
	/* the next job starts from the loop, not from under this job's callback */
	event_active(j->rw->wake, EV_READ, 0);
}

/* Frees what any job owns, once its flow ended. */
static void job_release(struct job *j)
{
	free(j->wire);
	free(j->key);
	free(j);
}

/* Frees a started job (in rw->running). */
static void job_free(struct job *j)
{
	struct replay_worker *rw = j->rw;
	if (j->flow)
		finish(j, "replay abandoned");
	open_gate(j);
	h2once_free(j->h2);
	if (j->started)
		upstream_clear(&j->up);
	if (j->prev_run)
		j->prev_run->next_run = j->next_run;
	else if (rw->running == j)
		rw->running = j->next_run;
	if (j->next_run)
		j->next_run->prev_run = j->prev_run;
	job_release(j);
}

/* Ends a job that never started (in the mailbox or a lane's queue): its flow ends with why.
 * From the mailbox, on any thread: it touches nothing of the worker. */
static void drop_queued(struct job *j, const char *why)
{
	j->lane = NULL;
	finish(j, why);
	job_release(j);
}

static void enter(struct job *j)
{
	j->depth++;
}

static void leave(struct job *j) /* frees a finished job once no callback of it runs */
{
	if (--j->depth == 0 && j->finished)
		job_free(j);
}

/* Parser callbacks */

static void on_resp_head(void *arg, struct flow_msg *head)
{
	struct job *j = arg;
	j->events |= EV_HEAD;
	if (head->status >= 100 && head->status < 200 && head->status != 101)
		return; /* interim 1xx: not recorded */
	j->resp_final = 1;
	j->update_due = 1;
	open_gate(j);
	flow_msg_clear(&j->flow->response);
	j->flow->response = *head;
	memset(head, 0, sizeof *head);
}

static void on_resp_body(void *arg, const char *data, size_t len)
{
	struct job *j = arg;
	if (j->flow)
		flow_msg_add_body(&j->flow->response, data, len, env_body_limit(env(j)));
}

static void on_resp_end(void *arg)
{
	struct job *j = arg;
	j->events |= EV_END;
}

static void on_resp_trailers(void *arg, const struct flow_msg *trailers)
{
	struct job *j = arg;
	if (j->flow && j->resp_final)
		flow_msg_add_trailers(&j->flow->response, trailers);
}

/* Feeds what the upstream sent to the parser; finishes the job at the response's end. */
static void read_response(struct job *j)
{
	struct evbuffer *in = bufferevent_get_input(j->up.bev);
	const char *err = NULL;
	while (!j->finished) {
		size_t avail;
		j->events = 0;
		ssize_t r = upstream_feed(&j->up, &j->flow->t.first_byte, &avail, &err);
		if (!j->flow->t.request_sent)
			j->flow->t.request_sent = j->flow->t.first_byte;
		if (r < 0) {
			char *msg = xasprintf("invalid response from %s:%d: %s", j->flow->host,
					      j->flow->port, err);
			finish(j, msg);
			free(msg);
			return;
		}
		if (r) {
			evbuffer_drain(in, (size_t)r);
			j->flow->bytes_down += (uint64_t)r;
		}
		if (j->events & EV_END) {
			if (!j->resp_final)
				continue; /* an interim 1xx: the real response follows */
			finish(j, NULL);
			return;
		}
		if (r == 0 || avail == 0)
			break;
	}
	if (j->update_due && !j->finished) {
		/* the head came and the body goes on: the store hears of the head now, as for
		 * proxied flows; short responses end within this call and cost no UPDATE */
		const struct flow_sink *s = &env(j)->cfg->sink;
		j->update_due = 0;
		if (s->emit)
			s->emit(s->arg, FLOW_EV_UPDATE, flow_dup(j->flow));
	}
}

/* The upstream closed: a body that runs until close ends here; anything else is cut. */
static void upstream_closed(struct job *j, const char *why)
{
	const char *err = NULL;
	read_response(j);
	if (j->finished)
		return;
	j->events = 0;
	if (http1_in_message(j->up.resp) && j->resp_final && http1_finish(j->up.resp, &err) == 0 &&
	    (j->events & EV_END)) {
		finish(j, NULL);
		return;
	}
	char *msg;
	if (!j->resp_final)
		msg = xasprintf("%s:%d closed the connection without answering%s%s", j->flow->host,
				j->flow->port, why ? ": " : "", why ? why : "");
	else
		msg = xasprintf("%s:%d closed the connection in the middle of the response "
				"body%s%s",
				j->flow->host, j->flow->port, why ? ": " : "", why ? why : "");
	finish(j, msg);
	free(msg);
}

static void on_up_read(void *arg)
{
	struct job *j = arg;
	enter(j);
	if (j->h2)
		h2once_read(j->h2);
	else
		read_response(j);
	leave(j);
}

static void on_up_write(void *arg)
{
	struct job *j = arg;
	enter(j);
	if (j->h2)
		h2once_write(j->h2); /* more of the body */
	else if (j->flow && !j->flow->t.request_sent)
		j->flow->t.request_sent = util_now_us();
	leave(j);
}

static void on_up_event(void *arg, short what, const char *why)
{
	struct job *j = arg;
	enter(j);
	if (what & BEV_EVENT_TIMEOUT) {
		char *msg = xasprintf("%s:%d did not answer within %d s", j->flow->host,
				      j->flow->port, env(j)->timeout_s);
		finish(j, msg);
		free(msg);
	} else if (j->h2) {
		h2once_closed(j->h2, why);
	} else {
		upstream_closed(j, why);
	}
	leave(j);
}

static void on_h2_done(void *arg, const char *err)
{
	struct job *j = arg;
	finish(j, err); /* (inside the job's enter()/leave()) */
}

/* An HTTP/2 flow with a Content-Length and trailers, replayed over HTTP/1.1: the wire went
 * without them (HTTP/1.1 carries them only chunked), so the record has none. */
static void drop_trailers(struct flow *f)
{
	struct flow_msg *m = &f->request;
	if (!m->num_trailers)
		return;
	log_info("replay of %s %s: its trailers are not sent over HTTP/1.1 with a Content-Length",
		 m->method, f->path);
	for (size_t i = 0; i < m->num_trailers; i++)
		flow_msg_free_header(m, &m->trailers[i]);
	m->num_trailers = 0;
}

/* Connected (and TLS up for https): the whole request goes out at once. Else the replay
 * ends with why it could not be sent. */
static void on_up_ready(void *arg, enum upstream_status st, const char *err)
{
	struct job *j = arg;
	struct flow *f = j->flow;
	enter(j);
	f->t.dns_done = j->up.t.dns_done;
	f->t.connect_done = j->up.t.connect_done;
	memcpy(f->server_addr, j->up.addr, sizeof f->server_addr);
	if (st == UPSTREAM_OK) {
		upstream_describe(&j->up, f);
		if (alpn_chosen(bufferevent_openssl_get_ssl(j->up.bev)) == ALPN_H2) {
			/* an HTTP/2 flow replayed to an origin that still speaks h2 */
			j->h2 = h2once_start(&j->up, f, env(j)->cfg->body_limit, on_h2_done, j);
			h2once_write(j->h2);
		} else {
			f->request.version = f->request.version == 20 ? 11 : f->request.version;
			if (!wire_sends_trailers(&f->request))
				drop_trailers(f); /* kept for h2 only (replayreq.c) */
			bufferevent_write(j->up.bev, j->wire, j->wire_len);
			f->bytes_up += j->wire_len;
		}
		upstream_set_timeouts(&j->up, 1, 1);
		bufferevent_enable(j->up.bev, EV_READ | EV_WRITE);
	} else if (st == UPSTREAM_SELF) {
		/* A stored POST /api/flows/N/replay replayed to ourselves would replay itself
		 * forever. */
		char *msg = xasprintf("refusing to replay a request to %s:%d: that is "
				      "flowscope itself (its proxy or web address)",
				      f->host, f->port);
		finish(j, msg);
		free(msg);
	} else {
		finish(j, err);
	}
	leave(j);
}

static const struct upstream_ops up_ops = {on_up_ready, on_up_read, on_up_write, on_up_event};

/* Starts a job (the head of its lane): DNS, then TCP, TLS, the request, the response. Runs
 * inside enter()/leave() of the caller. */
static void job_start(struct job *j)
{
	struct flow *f = j->flow;
	f->t.start = util_now_us();
	struct http1_sink ps = {on_resp_head, on_resp_body, on_resp_end, j, on_resp_trailers};
	upstream_init(&j->up, j->rw->w, &up_ops, &ps, j);
	j->up.via = j->via;
	j->started = 1;
	http1_set_request_method(j->up.resp, f->request.method);
	/* Block rules hold for replays too; intercept rules do not (see the top). */
	struct rules *r = rules_live_get(env(j)->rules);
	int block = rules_block(r, f);
	rules_unref(r);
	if (block) {
		rules_block_answer(&f->response, block, env_body_limit(env(j)));
		f->t.first_byte = util_now_us();
		log_debug("replay of %s: blocked with %d", j->key, f->response.status);
		finish(j, NULL);
		return;
	}
	int tls = strcmp(f->scheme, "https") == 0;
	/* an HTTP/2 flow: h2 again if the origin will */
	int h2 = tls && f->request.version == 20;
	upstream_connect(&j->up, f->host, f->port, tls, NULL,
			 h2 ? UPSTREAM_ALPN(ALPN_H2 | ALPN_H1) : 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Lanes, and jobs arriving from the mailbox */

static struct lane *lane_for(struct replay_worker *rw, const char *key)
{
	for (struct lane *l = rw->lanes; l; l = l->next)
		if (strcmp(l->key, key) == 0)
			return l;
	struct lane *l = xcalloc(1, sizeof *l);
	l->key = xstrdup(key);
	l->next = rw->lanes;
	rw->lanes = l;
	return l;
}

/* A job handed over by replay_start() (the mailbox's run, on the worker): into its lane, in
 * the order of the calls; it starts from on_wake(), as the lane allows. */
static void on_arrive(void *arg)
{
	struct job *j = arg;
	struct replay_worker *rw = j->rw;
	struct lane *l = lane_for(rw, j->key);
	j->lane = l;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
	event_active(rw->wake, EV_READ, 0);
}

/* A job the worker never took (the mailbox's drop: posted at or after shutdown). */
static void on_not_arrived(void *arg)
{
	drop_queued(arg, "proxy shutting down");
}

/* Starts idle lanes, drops empty ones. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct replay_worker *rw = arg;
	(void)fd;
	(void)what;
	for (struct lane **lp = &rw->lanes; *lp;) {
		struct lane *l = *lp;
		/* a job that fails at once opens the gate again: start the next one */
		while (!l->gate && l->head) {
			struct job *j = l->head;
			l->head = j->next;
			if (!l->head)
				l->tail = NULL;
			j->next = NULL;
			l->gate = j;
			j->next_run = rw->running;
			if (rw->running)
				rw->running->prev_run = j;
			rw->running = j;
			enter(j);
			job_start(j);
			leave(j);
		}
		if (!l->head && !l->gate) {
			*lp = l->next;
			free(l->key);
			free(l);
			continue;
		}
		lp = &l->next;
	}
}

struct replay_worker *replay_worker_new(struct env_worker *w, struct mailbox *mb)
{
	struct replay_worker *rw = xcalloc(1, sizeof *rw);
	rw->w = w;
	rw->mb = mb;
	rw->wake = event_new(w->base, -1, 0, on_wake, rw);
	return rw;
}

void replay_worker_close_all(struct replay_worker *rw, const char *why)
{
	if (!rw)
		return;
	/* queued first, in order, then the running ones */
	for (struct lane *l = rw->lanes; l; l = l->next) {
		while (l->head) {
			struct job *j = l->head;
			l->head = j->next;
			drop_queued(j, why);
		}
		l->tail = NULL;
	}
	for (struct job *j = rw->running, *next; j; j = next) {
		next = j->next_run;
		if (j->depth == 0) {
			finish(j, why);
			job_free(j); /* unlinks it from running, opens its gate */
		} else {
			/* cannot happen from the stop event; freed on leave() */
			finish(j, why);
			if (j->lane) {
				j->lane->gate = NULL;
				j->lane = NULL;
			}
		}
	}
	while (rw->lanes) {
		struct lane *l = rw->lanes;
		rw->lanes = l->next;
		free(l->key);
		free(l);
	}
}

void replay_worker_free(struct replay_worker *rw)
{
	if (!rw)
		return;
	replay_worker_close_all(rw, "proxy shutting down");
	if (rw->wake)
		event_free(rw->wake);
	free(rw);
}

/* ---------------------------------------------------------------------------------------- */

static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

uint64_t replay_start(struct replay_worker *const *rws, int n, struct flow *req,
		      const struct dial_via *via, int anticache, char *err, size_t errlen)
{
	if (!req) {
		snprintf(err, errlen, "nothing to replay");
		return 0;
	}
	struct flow *nf = flow_new();
	char *wire = NULL;
	size_t wire_len = 0;
	if (replayreq_build(req, nf, via, anticache, &wire, &wire_len, err, errlen) != 0) {
		flow_free(nf);
		flow_free(req);
		return 0;
	}
	nf->kind = FLOW_HTTP;
	nf->state = FLOW_PENDING;
	nf->flags = FLOW_F_REPLAY;
	nf->replay_of = req->replay_of;
	nf->t.start = util_now_us();
	flow_free(req);

	/* the same host:port always goes to the same worker, and there to the same lane */
	char *lower = xstrdup(nf->host);
	for (char *c = lower; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	char *key = xasprintf("%s://%s:%u", nf->scheme, lower, (unsigned)nf->port);
	free(lower);
	struct replay_worker *rw = rws[hash_key(key) % (uint64_t)(n > 0 ? n : 1)];

	struct job *j = xcalloc(1, sizeof *j);
	j->rw = rw;
	j->flow = nf;
	j->key = key;
	j->wire = wire;
	j->wire_len = wire_len;
	j->via = *via;
	uint64_t id = nf->id;
	const struct flow_sink *s = &rw->w->env->cfg->sink;

	/* BEGIN before the job is visible to the worker: its END cannot overtake it. Once the
	 * proxy stops, the mailbox ends the job at once (on_not_arrived): the flow is recorded as
	 * cut by the shutdown, as the jobs still queued then are. */
	if (s->emit)
		s->emit(s->arg, FLOW_EV_BEGIN, flow_dup(nf));
	mailbox_post(rw->mb, on_arrive, on_not_arrived, j);
	return id;
}
