/* SPDX-License-Identifier: MIT */
/* webui-t.h - the types webui.c (the context, the event stream, the server's life) and
 * webhttp.c (the HTTP side) share: the server and one connection. Types only; the functions
 * are in web.h and webhttp.h. */
#ifndef WEBUI_T_H
#define WEBUI_T_H

#include "api.h"
#include "door.h"
#include "events.h"
#include "store.h"
#include "wsnotify.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct web {
	struct lws_context *ctx; /* owned; serviced only by the web thread while it runs */
	struct door door;	 /* immutable after web_new */
	struct api api;		 /* web thread only */
	struct events *events;	 /* owned; shared with the store's writer thread */
	struct eventlog *log;	 /* owned; the page's event log (any thread adds to it) */
	struct store *store;	 /* borrowed */
	char *static_dir;	 /* owned; NULL: embedded UI */
	pthread_t thread;
	int started;	       /* 1 while the thread exists (main thread only) */
	int listening;	       /* 1 while we are the store's listener (main thread only) */
	atomic_int stop;       /* set by web_stop, read by the web thread */
	atomic_int ws_readers; /* open event streams; the writer skips building events at 0 */
	struct conn *held;     /* answers waiting for the store (webhttp.c); web thread only */
	atomic_int holding;    /* how many: the store's done listener wakes this thread when > 0 */
	const char *store_error; /* the store's error last told to the pages (writer thread) */
	struct wsnotify notify;	 /* WebSocket message notices (any thread) */
	lws_sorted_usec_list_t notify_sul; /* flushes notify's pending notices (web thread) */
};

/* One connection (lws per-session data). ONLY read or written from the lws service thread. */
struct conn {
	/* the HTTP request being answered */
	char method[8];
	char *path;    /* owned */
	char *args[7]; /* owned: filter, limit, before, decode, type, after, position, or NULL */
	char *body;    /* owned request body */
	size_t body_len, body_cap;
	size_t body_max; /* the largest body this call takes */
	int body_too_big;
	int awaiting_body; /* 1 from the head of a request with a body to its end */
	/* the answer being written */
	struct api_reply reply;	  /* owned body, or a stream recipe */
	const unsigned char *out; /* borrowed (reply.body, an embedded file or file_data) */
	unsigned char *file_data; /* owned; a file read from --static-dir */
	uint64_t out_len, sent;
	int responding; /* headers sent, body (maybe empty) still to finish */
	/* a write call's answer held until the store has its effect (web.held's list) */
	struct web *held_by; /* NULL: not held */
	struct lws *wsi;
	struct conn *held_next, **held_pprev;
	int close_after; /* hang up once the answer is written */
	/* the WebSocket side */
	int is_ws;
	uint64_t tail; /* next events sequence number to send */
	/* write buffer with LWS_PRE headroom, shared by both sides */
	char *wbuf; /* owned */
	size_t wcap;
};
#endif
