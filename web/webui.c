/* SPDX-License-Identifier: MIT */
/* webui.c - the web server on libwebsockets: one lws context serviced by its own thread (the
 * web thread), one protocol that answers both HTTP (webhttp.c) and the WebSocket /api/events
 * (here).
 *
 *   browser ──HTTP──► webhttp_on_request(): door checks ─► api_handle() / embedded files
 *                       reply: headers at once, body from HTTP_WRITEABLE in chunks
 *   browser ◄──WS──── SERVER_WRITEABLE: one events message per call, each client its own tail
 *   store writer thread ── on_store_change() ─► events_publish() ─► lws_cancel_service()
 *                       ─► EVENT_WAIT_CANCELLED ─► writable on every WebSocket, and
 *                          api_import_poll() for the HAR imports whose answer is ready
 *   store writer thread ── on_store_done() ─► lws_cancel_service() while answers are held:
 *                          a write call is answered once the store has committed it
 *
 * Threads: struct web is created and freed on the main thread; while the web thread runs, only
 * it touches ctx, api and every struct conn. The store's writer thread touches only events
 * (which has its own lock); an import's worker only its struct harimport and the store. */
#include "web.h"

#include "eventlog.h"
#include "util.h"
#include "webhttp.h"
#include "webjson.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENTS_RING 8192 /* messages a client may fall behind before a reset */

/* ---- the WebSocket event stream ---- */

static int on_ws_writeable(struct lws *wsi, struct web *w, struct conn *c)
{
	size_t n = events_next(w->events, &c->tail, LWS_PRE, &c->wbuf, &c->wcap);
	if (n == 0)
		return 0;
	if (lws_write(wsi, (unsigned char *)c->wbuf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n)
		return -1;
	if (events_pending(w->events, c->tail))
		lws_callback_on_writable(wsi);
	return 0;
}

/* ---- the protocol callback ---- */

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len);
static void on_notify_timer(lws_sorted_usec_list_t *sul);

static const struct lws_protocols protocols[] = {
    {"flowscope", callback, sizeof(struct conn), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct lws_context *ctx = lws_get_context(wsi);
	struct web *w = ctx ? lws_context_user(ctx) : NULL;
	struct conn *c = user;
	const char *why = NULL;
	int status;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return c ? webhttp_on_request(wsi, w, c, in) : -1;
	case LWS_CALLBACK_HTTP_BODY:
		return c ? webhttp_on_body(c, in, len) : -1;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		return c ? webhttp_on_body_done(wsi, w, c) : -1;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return c ? webhttp_on_writeable(wsi, w, c) : -1;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		status = webhttp_upgrade_refusal(wsi, w, &why);
		return status ? webhttp_refuse_upgrade(wsi, status, why) : 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* checked again here: the upgrade must never bypass the door */
		return webhttp_upgrade_refusal(wsi, w, &why) ? 1 : 0;
	case LWS_CALLBACK_ESTABLISHED:
		webhttp_conn_clear(c);
		c->is_ws = 1;
		c->tail = events_head(w->events);
		atomic_fetch_add(&w->ws_readers, 1);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return c && c->is_ws ? on_ws_writeable(wsi, w, c) : 0;
	case LWS_CALLBACK_RECEIVE:
		return 0; /* clients have nothing to say on the stream */
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (ctx) {
			lws_callback_on_writable_all_protocol(ctx, &protocols[0]);
			api_import_poll(&w->api, webhttp_on_import_ready, w);
			webhttp_wake_held(w);
			on_notify_timer(&w->notify_sul);
		}
		return 0;
	case LWS_CALLBACK_TIMER: /* a held answer's watch ran out */
		if (c && c->held_by)
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLOSED:
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (c && c->is_ws) {
			c->is_ws = 0;
			atomic_fetch_sub(&w->ws_readers, 1);
		}
		if (c)
			webhttp_conn_clear(c);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* ---- lifecycle ---- */

static void on_store_change(void *arg, enum store_change change, const struct flow *f)
{
	struct web *w = arg;
	if (f && api_flow_changed(&w->api, f->id))
		lws_cancel_service(w->ctx); /* a held answer waited for this flow */
	if (f && change != STORE_REMOVED && f->state == FLOW_ERROR && f->error) {
		char line[600];
		snprintf(line, sizeof line, "flow #%llu %s%s%s: %.400s", (unsigned long long)f->id,
			 f->host ? f->host : "", f->path ? " " : "", f->path ? f->path : "", f->error);
		eventlog_add(w->log, LOG_WARN, "flow", line);
	}
	/* Nobody to tell: a stream opened later starts from a fresh page of the store, which
	 * holds this change already (the listener runs after COMMIT). Building the JSON was a
	 * tenth of the writer's time under load. */
	if (atomic_load(&w->ws_readers) == 0)
		return;
	size_t len;
	char *msg = webjson_event(change, f, &len);
	events_publish(w->events, msg, len);
	free(msg);
}

/* New WebSocket messages of a flow were committed: its notice, now or within WSNOTIFY_US. */
static void on_store_messages(void *arg, uint64_t id)
{
	struct web *w = arg;
	if (atomic_load(&w->ws_readers) > 0 && wsnotify_changed(&w->notify, w->events, id))
		lws_cancel_service(w->ctx); /* the web thread sets the timer */
}

/* Web thread: publishes the notices whose time came; the timer runs again for the rest. */
static void on_notify_timer(lws_sorted_usec_list_t *sul)
{
	struct web *w = lws_container_of(sul, struct web, notify_sul);
	int64_t due = wsnotify_flush(&w->notify, w->events);
	if (due)
		lws_sul_schedule(w->ctx, 0, &w->notify_sul, on_notify_timer, due);
}

/* The writer is done with more writes: wake the web thread if an answer waits for one. The
 * web thread counts a held answer before it checks the mark a last time, and the writer
 * publishes the mark before it looks at the count, so one of them sees the other. */
static void on_store_done(void *arg)
{
	struct web *w = arg;
	struct store_stats st;
	store_get_stats(w->store, &st);
	if (st.write_error != w->store_error) {
		/* the store stopped (or started again) storing: every page says so at once */
		w->store_error = st.write_error;
		size_t len;
		char *msg =
		    webjson_store_event(st.write_error ? api_store_error(&w->api) : NULL, &len);
		events_publish(w->events, msg, len);
		free(msg);
	}
	if (atomic_load(&w->holding) > 0)
		lws_cancel_service(w->ctx);
}

static void wake(void *arg)
{
	struct web *w = arg;
	lws_cancel_service(w->ctx);
}

static void on_lws_log(int level, const char *line)
{
	size_t len = strlen(line);
	while (len && line[len - 1] == '\n')
		len--;
	if (level & LLL_ERR)
		log_error("web: %.*s", (int)len, line);
	else
		log_warn("web: %.*s", (int)len, line);
}

/* A token goes into a cookie: only cookie-octets (RFC 6265) are allowed. */
static int token_ok(const char *t)
{
	if (!t || !*t)
		return 0;
	for (; *t; t++) {
		unsigned char ch = (unsigned char)*t;
		if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == ',' || ch == ';' || ch == '\\')
			return 0;
	}
	return 1;
}

struct web *web_new(const struct web_config *cfg, char *err, size_t errlen)
{
	if (!token_ok(cfg->token)) {
		/* there is always a token: auth cannot be switched off, on any address */
		snprintf(err, errlen,
			 "web token must be non-empty printable ASCII without space, "
			 "quote, comma, semicolon or backslash");
		return NULL;
	}
	const char *iface = cfg->host;
	if (strcasecmp(iface, "localhost") == 0)
		iface = "127.0.0.1";
	if (!door_is_loopback(cfg->host))
		log_warn("web UI bound to non-loopback address %s: anyone who can reach it and "
			 "has the token controls the proxy",
			 cfg->host);

	struct web *w = xcalloc(1, sizeof *w);
	wsnotify_init(&w->notify);
	w->store = cfg->store;
	w->static_dir = cfg->static_dir ? xstrdup(cfg->static_dir) : NULL;
	w->events = events_new(EVENTS_RING);
	w->log = eventlog_new(w->events);

	lws_set_log_level(LLL_ERR | LLL_WARN, on_lws_log);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.port = cfg->port;
	info.iface = iface;
	info.protocols = protocols;
	info.user = w;
	info.vhost_name = "flowscope";
	info.max_http_header_data = 16384;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
	if (!strchr(iface, ':'))
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	w->ctx = lws_create_context(&info);
	if (!w->ctx) {
		snprintf(err, errlen, "cannot serve the web UI on %s:%d (address in use?)",
			 cfg->host, cfg->port);
		web_free(w);
		return NULL;
	}
	struct lws_vhost *vh = lws_get_vhost_by_name(w->ctx, "flowscope");
	int port = vh ? lws_get_vhost_listen_port(vh) : cfg->port;
	if (port <= 0) {
		snprintf(err, errlen, "cannot serve the web UI on %s:%d", cfg->host, cfg->port);
		web_free(w);
		return NULL;
	}
	door_init(&w->door, cfg->token, cfg->host, port);
	api_init(&w->api, cfg->store, cfg->db_path, cfg->ca_pem, cfg->ca_pem_len);
	w->api.control = cfg->control;
	w->api.wake = wake; /* from an import's worker: its answer is ready */
	w->api.wake_arg = w;
	w->api.log = w->log;
	log_set_hook(eventlog_on_log, w->log);
	events_set_wake(w->events, wake, w);
	if (cfg->store) {
		store_set_listener(cfg->store, on_store_change, w);
		store_set_done_listener(cfg->store, on_store_done, w);
		store_set_messages_listener(cfg->store, on_store_messages, w);
		w->listening = 1;
	}
	return w;
}

static void *run(void *arg)
{
	struct web *w = arg;
	util_name_thread("fs-web");
	while (!atomic_load(&w->stop))
		if (lws_service(w->ctx, 0) < 0)
			break;
	/* the reader belongs to this thread: close it here */
	store_reader_close(w->api.reader);
	w->api.reader = NULL;
	return NULL;
}

int web_start(struct web *w)
{
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		log_error("web: cannot start the web thread");
		return -1;
	}
	w->started = 1;
	return 0;
}

void web_stop(struct web *w)
{
	if (!w)
		return;
	if (w->listening) {
		store_set_listener(w->store, NULL, NULL);
		store_set_done_listener(w->store, NULL, NULL);
		store_set_messages_listener(w->store, NULL, NULL);
		w->listening = 0;
	}
	events_set_wake(w->events, NULL, NULL);
	if (w->started) {
		atomic_store(&w->stop, 1);
		lws_cancel_service(w->ctx);
		pthread_join(w->thread, NULL);
		w->started = 0;
	}
	/* the imports' workers wake ctx: they must be over before it goes */
	api_import_stop(&w->api);
	if (w->ctx) {
		lws_context_destroy(w->ctx);
		w->ctx = NULL;
	}
}

void web_free(struct web *w)
{
	if (!w)
		return;
	web_stop(w);
	api_clear(&w->api);
	door_clear(&w->door);
	log_set_hook(NULL, NULL);
	eventlog_free(w->log);
	events_free(w->events);
	wsnotify_clear(&w->notify);
	free(w->static_dir);
	free(w);
}

int web_port(const struct web *w)
{
	return w->door.port;
}
