/* SPDX-License-Identifier: MIT */
/* flow.h - one recorded exchange, and the sink the proxy hands it to.
 *
 * A flow is what the user sees as one row: an HTTP request with its response (decrypted or
 * plain), a tunnel that was passed through undecrypted, or a failure. The proxy builds a flow
 * while the exchange runs and hands snapshots of it to a sink (the store, in the program):
 *
 *   FLOW_EV_BEGIN  request head seen (or tunnel opened): a copy with the request head only
 *   FLOW_EV_END    exchange over (done, failed or tunnel closed): the whole flow
 *
 * Every event owns its flow: the sink must flow_free() it. No libevent or OpenSSL here: db/ and
 * web/ include this header and nothing else from proxy/.
 */
#ifndef FLOW_H
#define FLOW_H

#include <stddef.h>
#include <stdint.h>

enum flow_kind {
	FLOW_HTTP = 0,   /* an HTTP/1.x request and its response */
	FLOW_TUNNEL = 1, /* a CONNECT tunnel relayed without decryption */
};

enum flow_state {
	FLOW_PENDING = 0, /* request seen, response not finished */
	FLOW_DONE = 1,    /* response complete, or tunnel closed cleanly */
	FLOW_ERROR = 2,   /* ended with flow.error set */
	FLOW_PAUSED = 3,  /* held by an intercept rule */
};

/* Flag bits of flow.flags. */
enum {
	FLOW_F_TLS = 1u << 0,       /* client side was TLS (decrypted https) */
	FLOW_F_WEBSOCKET = 1u << 1, /* the exchange upgraded to a WebSocket */
	FLOW_F_REPLAY = 1u << 2,    /* made by a replay; replay_of names the original */
	FLOW_F_IMPORTED = 1u << 3,  /* imported from a HAR file */
	FLOW_F_MARKED = 1u << 4,    /* marked by the user */
	FLOW_F_MODIFIED = 1u << 5,  /* edited by the user once captured; the store keeps the
				       original until Revert */
	FLOW_F_DUPLICATE = 1u << 6, /* a copy the user made of a stored flow */
};

struct flow_header {
	char *name;  /* owned, as on the wire (case kept), NUL-terminated */
	char *value; /* owned, NUL-terminated; bytes kept as seen */
	size_t name_len, value_len;
};

/* A growable byte buffer. */
struct flow_buf {
	char *data; /* owned; NULL while empty */
	size_t len, cap;
	int pooled; /* FLOW_BUF_POOLED: data is a recycled large buffer, flow_buf_clear()
		       hands it back; FLOW_BUF_BORROWED: data lies in a snapshot's own
		       allocation, never freed by itself (growing it copies it out) */
};

enum { FLOW_BUF_POOLED = 1, FLOW_BUF_BORROWED = 2 };

struct flow_msg {
	int present;        /* 0 until this side's head was seen */
	int version;        /* 10 or 11 (HTTP/1.0, HTTP/1.1) */
	char *method;       /* request: owned, e.g. "GET"; NULL on a response */
	char *target;       /* request: owned, as sent by the client (origin or absolute form) */
	int status;         /* response: e.g. 200; 0 on a request */
	char *reason;       /* response: owned, e.g. "OK" */
	struct flow_header *headers; /* owned array, in wire order */
	size_t num_headers, cap_headers;
	/* owned, NULL when none: one allocation holding the names and values of the headers
	 * given by flow_msg_take_headers() (a parsed head's), which are not freed one by one;
	 * use flow_msg_free_header() and flow_msg_set_value() on any header of m */
	char *header_block;
	size_t header_block_len;
	/* owned array, in wire order: the trailers after the body (HTTP/2 trailing HEADERS,
	 * HTTP/1.1 chunked trailers); NULL when none */
	struct flow_header *trailers;
	size_t num_trailers, cap_trailers;
	struct flow_buf body;  /* stored bytes, de-chunked, at most the body limit */
	uint64_t body_size;    /* real body size seen on the wire (de-chunked) */
	int body_truncated;    /* 1 when body_size > body.len */
	uint64_t head_size;    /* bytes of the head on the wire (start line + headers) */
};

/* Microseconds since the Unix epoch; 0 means "did not happen". */
struct flow_timing {
	int64_t start;        /* request's first byte arrived (tunnel: CONNECT seen) */
	int64_t dns_done;     /* upstream name resolved */
	int64_t connect_done; /* TCP to upstream established */
	int64_t tls_done;     /* TLS to upstream established */
	int64_t request_sent; /* last request byte written upstream */
	int64_t first_byte;   /* first response byte read */
	int64_t end;          /* response complete, error, or tunnel closed */
};

struct flow_tls {
	char *sni;            /* owned; what the client asked for, NULL if none */
	char *version;        /* owned; upstream's negotiated version, "TLSv1.3" */
	char *cipher;         /* owned; upstream cipher name */
	char *alpn;           /* owned; protocol agreed with upstream, NULL if none */
	char *cert_subject;   /* owned; upstream leaf subject, one-line RFC 2253 */
	char *cert_issuer;    /* owned; upstream leaf issuer */
	char *client_version; /* owned; version agreed with the client */
};

struct flow {
	uint64_t id;           /* unique in the store; from flow_next_id() */
	enum flow_kind kind;
	enum flow_state state;
	unsigned flags;        /* FLOW_F_* */
	uint64_t replay_of;    /* id of the replayed flow, 0 if none */
	char *scheme;          /* owned; "http" or "https" */
	char *host;            /* owned; upstream host as asked (name or IP literal) */
	uint16_t port;
	char *path;            /* owned; path and query ("/a?b=1"); NULL for tunnels */
	char client_addr[64];  /* "ip:port" of the client */
	char server_addr[64];  /* "ip:port" of the upstream, "" until connected */
	struct flow_msg request;
	struct flow_msg response;
	struct flow_tls tls;
	struct flow_timing t;
	uint64_t bytes_up;     /* bytes client->upstream (tunnels: payload relayed) */
	uint64_t bytes_down;   /* bytes upstream->client */
	uint32_t stream_id;    /* HTTP/2: the stream's id on the client's connection; 0: none */
	char *error;           /* owned; NULL, or what went wrong in words */
	char *mode;            /* owned; the listener it came through, its mode as typed and
				  its address: "regular@127.0.0.1:8080",
				  "reverse:http://h:3000@127.0.0.1:8082"; NULL: none (replays) */
	/* The user's notes, kept by the store apart from what the proxy writes: NULL when not
	 * read from the store (the proxy's flows), else owned, "" when none. */
	char *mark;            /* a colour name ("red", ...) */
	char *comment;         /* free text */
	int _packed;           /* flow.c's: made by flow_snapshot() (see there), and how */
	/* flow.c's: flow_new()'s room for strings after the struct (flow_put_str()); NULL on
	 * any other flow */
	char *_arena;
	size_t _arena_used;
};

enum flow_event {
	FLOW_EV_BEGIN = 0, /* the flow exists; request head known */
	FLOW_EV_END = 1,   /* the flow is final */
	FLOW_EV_UPDATE = 2, /* a change while not final (paused, response head seen) */
	/* Or'ed into the UPDATE or END that comes first, when no BEGIN went before it (the
	 * exchange put its BEGIN off and then took it back: begins.h): the sink has no row of
	 * the flow yet. */
	FLOW_EV_UNBEGUN = 4,
};

/* Where flows go. emit() is called from proxy worker threads and must not block on disk:
 * it takes ownership of f (even on failure) and returns quickly, or after a bounded wait when
 * the sink is behind (backpressure: the store's, store_sink() in db/store.h). ev may carry
 * FLOW_EV_UNBEGUN besides the event. */
struct wsmsg_batch;
struct flow_sink {
	void (*emit)(void *arg, enum flow_event ev, struct flow *f);
	void *arg;
	/* WebSocket messages of a flow (wsmsg.h), from the same worker threads, same rules: takes
	 * b (even on failure). NULL: messages are not recorded. */
	void (*emit_messages)(void *arg, struct wsmsg_batch *b);
};

/* Allocates an empty flow with a fresh id; never NULL (out of memory exits). */
struct flow *flow_new(void);
/* Frees f and all it owns. NULL is a no-op. */
void flow_free(struct flow *f);
/* Deep copy of f (bodies included). */
struct flow *flow_dup(const struct flow *f);
/* A copy of f for a sink event (bodies included), in at most three allocations: the flow with
 * all its strings and headers in one, and with each body of up to 16 KiB (FLOW_BUF_BORROWED),
 * each larger body in its own. Read-only but for its bodies
 * (flow_buf_clear() and flow_msg_add_body() work on them): never replace or free one of its
 * strings or headers, and never flow_msg_clear() one of its messages. flow_free() frees it;
 * flow_dup() of it is an ordinary flow. A tenth of flow_dup()'s allocations, and the thread
 * that frees it (the store's writer) calls free() once or three times instead of dozens. */
struct flow *flow_snapshot(const struct flow *f);
/* flow_snapshot() of f that takes f's large bodies over instead of copying them; frees f (in
 * the calling thread, where its many small allocations are cheap to free). */
struct flow *flow_snapshot_take(struct flow *f);
/* flow_snapshot_take() that leaves f emptied by flow_clear() instead of freeing it: the
 * caller's next flow costs no allocation. */
struct flow *flow_snapshot_clear(struct flow *f);
/* Frees what f (not a snapshot) owns and zeroes it, id included, keeping the allocation and
 * the room for strings of flow_new(): f is then an empty flow to fill again. */
void flow_clear(struct flow *f);

/* Ids: flow_next_id() hands out increasing ids, safe from any thread. The program seeds it
 * once at start with one more than the largest id already stored. */
void flow_seed_ids(uint64_t next);
uint64_t flow_next_id(void);

/* Appends a header, copying both strings. */
void flow_msg_add_header(struct flow_msg *m, const char *name, size_t name_len,
			 const char *value, size_t value_len);
/* m, which has no headers yet, takes over block (flow_head_block_size(len, n) bytes,
 * malloc'd: len bytes of strings and room for the array) and n headers whose
 * strings lie in it one after the other, each NUL-terminated: name, value, name, value ...;
 * lens holds their lengths in that order (2n numbers). One allocation for a whole head
 * instead of two per header. The block may hold more strings after the
 * headers: the caller may then point m's method, target or reason into it, and must change
 * them with flow_msg_set_str() alone from then on. */
void flow_msg_take_headers(struct flow_msg *m, char *block, size_t len, const size_t *lens,
			   size_t n);
/* Bytes to malloc for the block of flow_msg_take_headers(): len bytes of strings, then the
 * array of n headers (one allocation for the whole head; an added header moves the array to
 * the heap). */
size_t flow_head_block_size(size_t len, size_t n);
/* Replaces *field, m's method, target or reason, by a copy of src (NULL allowed), freeing the
 * old string unless it lies in m's header block. */
void flow_msg_set_str(struct flow_msg *m, char **field, const char *src);
/* Frees the strings of h, a header or trailer of m (not those in m's header block). */
void flow_msg_free_header(const struct flow_msg *m, struct flow_header *h);
/* Replaces the value of h, a header of m, by value (len bytes, malloc'd, NUL-terminated;
 * taken over). */
void flow_msg_set_value(struct flow_msg *m, struct flow_header *h, char *value, size_t len);
/* Appends a trailer, copying both strings. */
void flow_msg_add_trailer(struct flow_msg *m, const char *name, size_t name_len,
			  const char *value, size_t value_len);
/* Appends the headers of from (a trailer section as a parser hands it) as m's trailers,
 * copying them. */
void flow_msg_add_trailers(struct flow_msg *m, const struct flow_msg *from);
/* First header named name (case-insensitive), or NULL. */
const struct flow_header *flow_msg_header(const struct flow_msg *m, const char *name);
/* 1 when h is named name, len bytes (case-insensitive), else 0: the lengths are compared first,
 * so a header of another name costs no string compare. */
int flow_header_is(const struct flow_header *h, const char *name, size_t len);
/* flow_header_is() of a string literal. */
#define FLOW_HEADER_IS(h, lit) flow_header_is((h), (lit), sizeof(lit) - 1)
/* Appends up to what fits under limit; counts all len bytes in body_size and sets
 * body_truncated when some were dropped. When limit is at most FLOW_POOL_MAX, a body that
 * outgrows FLOW_POOL_MIN moves into a page-aligned buffer of limit bytes taken from a small
 * pool shared by all threads: large bodies then reuse memory that is already mapped instead
 * of page-faulting a fresh mapping each time. */
void flow_msg_add_body(struct flow_msg *m, const char *data, size_t len, size_t limit);
/* Frees what m owns and zeroes it. */
void flow_msg_clear(struct flow_msg *m);

#define FLOW_POOL_MIN (256 * 1024)
#define FLOW_POOL_MAX (16 * 1024 * 1024)

void flow_buf_append(struct flow_buf *b, const char *data, size_t len);
/* Makes room for len more bytes (len > 0) at the end of b and returns where they go: b->len
 * already counts them, the caller writes them. */
char *flow_buf_grow(struct flow_buf *b, size_t len);
/* Frees b's data (or returns it to the pool) and zeroes b. */
void flow_buf_clear(struct flow_buf *b);

/* Replaces *dst (freed) by a copy of src (NULL allowed). Never on a string that
 * flow_put_str() set. */
void flow_set_str(char **dst, const char *src);
/* Replaces *field, one of f's own strings outside its messages (scheme, host, mode, tls.*),
 * by a copy of src (NULL allowed), freeing the old one. A flow from flow_new() keeps small
 * copies in a few hundred bytes of room allocated with it, so that the strings every flow
 * gets (its listener, scheme, host, the upstream's TLS) cost no malloc and free each; a
 * string set this way must only be changed by flow_put_str() again, or freed by
 * flow_free(). */
void flow_put_str(struct flow *f, char **field, const char *src);
/* Records the first error only: later calls keep the first message. State becomes ERROR. */
void flow_set_error(struct flow *f, const char *msg);

const char *flow_state_name(enum flow_state s); /* "pending", "done", "error", "paused" */
const char *flow_kind_name(enum flow_kind k);   /* "http", "tunnel" */

#endif
