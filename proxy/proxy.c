/* SPDX-License-Identifier: MIT */
/* proxy.c - the proxy's workers: N threads, each with its own event_base, evdns_base and
 * SO_REUSEPORT listeners, one per configured listener (--mode), on the same addresses, so the
 * kernel spreads connections over them and a connection lives on one thread from accept to
 * close (conn.c). Every listener feeds the same sink; a connection knows its listener's mode.
 *
 * proxy_new() does everything that can fail (CA, TLS contexts, regexes, binding) so main.c
 * can report it; proxy_start() only starts threads. proxy_stop() posts a stop job to each
 * worker's mailbox; the worker then closes its mailbox, listener and connections, ending
 * their flows, and leaves its loop. proxy_free() joins and frees. What the workers share is
 * read-only (struct env) apart from the rules holder, the intercept registry and the
 * certificate cache, which lock internally.
 *
 * No other thread touches a worker's event_base or anything on it: what comes from outside
 * (stop, intercept commands, replays) goes through the worker's mailbox (mailbox.h). So the
 * bases run without libevent's locks (EVENT_BASE_FLAG_NOLOCK, and no evthread_use_pthreads(),
 * with which evdns would still lock its own), which cost a lock and an unlock on every
 * event_add, event_del, activation and loop pass. */
#include "proxy.h"

#include "begins.h"
#include "certforge.h"
#include "client.h"
#include "evmem.h"
#include "mailbox.h"
#include "replay.h"
#include "rules.h"
#include "tls.h"
#include "transparent.h"
#include "url.h"
#include "util.h"

#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

/* Connect, TLS handshake, response and idle timeout in seconds; FLOWSCOPE_TIMEOUT overrides
 * it (tests use a short one). */
#define DEFAULT_TIMEOUT_S 30
/* DNS: give up on a name after 2 tries of 2 s, so a dead resolver costs seconds, not minutes. */
#define DNS_TIMEOUT "2"
#define DNS_ATTEMPTS "2"
/* Out of descriptors, a listener stops accepting for this long (the pending connections wait
 * in the kernel's backlog), and the condition is logged at most once per interval. */
#define ACCEPT_PAUSE_MS 100
#define ACCEPT_LOG_INTERVAL_US (10 * 1000000LL)

/* One listener of one worker. */
struct listen {
	struct worker *w;		/* borrowed */
	const struct proxy_listener *l; /* borrowed from struct proxy */
	struct evconnlistener *ev;	/* owned; NULL once stopped */
	struct event *resume;		/* owned: enables ev again after an accept failure */
};

struct worker {
	struct proxy *p;      /* borrowed */
	struct env_worker cw; /* base and dns are owned here */
	struct listen *lis;   /* owned, p->num_listeners of them */
	struct mailbox *mb;   /* owned: the only way in from other threads */
	pthread_t thread;
	int started; /* thread running (join it) */
};

struct proxy {
	struct proxy_config cfg; /* copied; strings below are the owned copies */
	char *listen_host, *web_host, *confdir, *token_cookie;
	struct env env;
	struct certforge *cf;		      /* owned */
	SSL_CTX *upstream_ctx, *client_ctx;   /* owned */
	SSL_CTX *upstream_insecure_ctx;	      /* owned */
	struct rules_live *rules;	      /* owned */
	struct intercept *ic;		      /* owned: paused flows */
	struct sockaddr_storage *local_addrs; /* owned */
	struct worker *workers;		      /* owned, cfg.threads of them */
	int num_workers;
	struct replay_worker **replays;	  /* owned array: each worker's (owned by the worker) */
	struct proxy_listener *listeners; /* owned, strings too; ports as bound */
	size_t num_listeners;
	int *ports; /* owned: each listener's bound port */
};

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr,
		      int addrlen, void *arg)
{
	struct listen *li = arg;
	(void)l;
	client_accept(&li->w->cw, fd, addr, addrlen, li->l);
}

/* Logs an accept failure, once per interval for the whole process (every worker's listener
 * meets the same limit at once). */
static void log_accept_error(int err)
{
	static int64_t last;
	int64_t now = util_now_us(), seen = __atomic_load_n(&last, __ATOMIC_RELAXED);
	if (seen && now - seen < ACCEPT_LOG_INTERVAL_US)
		return;
	if (!__atomic_compare_exchange_n(&last, &seen, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	struct rlimit r = {0, 0};
	getrlimit(RLIMIT_NOFILE, &r);
	if (err == EMFILE)
		log_warn("accept failed: out of file descriptors (limit %llu per process): new "
			 "connections wait; raise the limit (ulimit -n, or LimitNOFILE= for a "
			 "systemd service)",
			 (unsigned long long)r.rlim_cur);
	else if (err == ENFILE)
		log_warn("accept failed: the system is out of file descriptors (process limit "
			 "%llu): new connections wait; raise fs.file-max (sysctl)",
			 (unsigned long long)r.rlim_cur);
	else
		log_warn("accept failed: %s: new connections wait",
			 evutil_socket_error_to_string(err));
}

/* accept() failed with an error libevent does not retry (EMFILE, ENFILE, ENOBUFS...): the
 * listener would be ready again at once and spin. Pause it; the timer resumes it. */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
	struct listen *li = arg;
	int err = EVUTIL_SOCKET_ERROR();
	static const struct timeval pause = {0, ACCEPT_PAUSE_MS * 1000};
	evconnlistener_disable(l);
	evtimer_add(li->resume, &pause);
	log_accept_error(err);
}

static void on_accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct listen *li = arg;
	(void)fd;
	(void)what;
	if (li->ev)
		evconnlistener_enable(li->ev);
}

/* The stop job (proxy_stop()), on the worker; or from proxy_free() for a worker that never
 * ran. The mailbox closes first: what is still on its way (commands, replays) is dropped,
 * and nothing new gets in. */
static void on_stop(void *arg)
{
	struct worker *w = arg;
	if (w->mb)
		mailbox_close(w->mb);
	for (size_t i = 0; w->lis && i < w->p->num_listeners; i++) {
		if (w->lis[i].ev)
			evconnlistener_free(w->lis[i].ev);
		w->lis[i].ev = NULL;
		if (w->lis[i].resume)
			evtimer_del(w->lis[i].resume);
	}
	client_close_all(&w->cw, "proxy shutting down");
	replay_worker_close_all(w->cw.replay, "proxy shutting down");
	event_base_loopexit(w->cw.base, NULL);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char name[16];
	snprintf(name, sizeof name, "fs-proxy-%d", (int)(w - w->p->workers));
	util_name_thread(name);
	begins_attach(w->cw.base);
	event_base_dispatch(w->cw.base);
	begins_detach();
	return NULL;
}

static int setup_dns(struct worker *w, char *err, size_t errlen)
{
	/* DISABLE_WHEN_INACTIVE: an idle resolver must not keep the loop alive at shutdown.
	 * Initializing from resolv.conf also loads /etc/hosts (localhost). */
	w->cw.dns = evdns_base_new(w->cw.base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
						   EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (!w->cw.dns) {
		/* no usable resolv.conf: names from /etc/hosts and IP literals still work */
		w->cw.dns = evdns_base_new(w->cw.base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (!w->cw.dns) {
			snprintf(err, errlen, "cannot create a DNS resolver");
			return -1;
		}
		evdns_base_load_hosts(w->cw.dns, NULL);
	}
	evdns_base_set_option(w->cw.dns, "timeout:", DNS_TIMEOUT);
	evdns_base_set_option(w->cw.dns, "attempts:", DNS_ATTEMPTS);
	evdns_base_set_option(w->cw.dns, "randomize-case:", "0");
	return 0;
}

/* Binds w's listener i; the first bind of a port 0 listener fixes the port for the others. */
static int bind_one(struct proxy *p, struct worker *w, size_t i, char *err, size_t errlen)
{
	struct proxy_listener *pl = &p->listeners[i];
	struct listen *li = &w->lis[i];
	char portstr[16];
	snprintf(portstr, sizeof portstr, "%d", pl->port);
	struct evutil_addrinfo hints = {0}, *res = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICSERV;
	int rc = evutil_getaddrinfo(pl->host, portstr, &hints, &res);
	if (rc != 0 || !res) {
		snprintf(err, errlen, "cannot resolve listen address %s: %s", pl->host,
			 evutil_gai_strerror(rc));
		return -1;
	}
	li->w = w;
	li->l = pl;
	li->ev = evconnlistener_new_bind(w->cw.base, on_accept, li,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
					     LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT,
					 1024, res->ai_addr, (int)res->ai_addrlen);
	int e = errno;
	evutil_freeaddrinfo(res);
	if (!li->ev) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", pl->host, pl->port,
			 strerror(e));
		return -1;
	}
	evconnlistener_set_error_cb(li->ev, on_accept_error);
	if (pl->mode == PROXY_TRANSPARENT)
		transparent_listen(evconnlistener_get_fd(li->ev), pl->host);
	li->resume = evtimer_new(w->cw.base, on_accept_resume, li);
	if (!li->resume) {
		snprintf(err, errlen, "cannot create a timer");
		return -1;
	}
	if (pl->port == 0) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof ss;
		getsockname(evconnlistener_get_fd(li->ev), (struct sockaddr *)&ss, &len);
		pl->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
						    : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	p->ports[i] = pl->port;
	return 0;
}

static int bind_worker(struct proxy *p, struct worker *w, char *err, size_t errlen)
{
	w->lis = xcalloc(p->num_listeners, sizeof *w->lis);
	for (size_t i = 0; i < p->num_listeners; i++)
		if (bind_one(p, w, i, err, errlen) != 0)
			return -1;
	return 0;
}

/* The listeners of cfg, copied (one from listen_host/port and mode when none is given). */
static void copy_listeners(struct proxy *p, const struct proxy_config *cfg)
{
	static const struct proxy_listener none = {.port = -1};
	size_t n = cfg->num_listeners ? cfg->num_listeners : 1;
	p->listeners = xcalloc(n, sizeof *p->listeners);
	p->ports = xcalloc(n, sizeof *p->ports);
	p->num_listeners = n;
	for (size_t i = 0; i < n; i++) {
		const struct proxy_listener *src = cfg->num_listeners ? &cfg->listeners[i] : &none;
		struct proxy_listener *d = &p->listeners[i];
		*d = *src;
		if (!cfg->num_listeners)
			d->mode = cfg->mode;
		d->host = xstrdup(src->host ? src->host : p->listen_host);
		d->port = src->port >= 0 ? src->port : cfg->listen_port;
		d->name = src->name ? xstrdup(src->name) : NULL;
		d->target_host = src->target_host ? xstrdup(src->target_host) : NULL;
		d->label = NULL;
	}
	p->env.proxy_ports = p->ports;
	p->env.num_proxy_ports = n;
}

/* The name of a mode when its listener was given none (mitmproxy's words). */
static const char *mode_name(enum proxy_mode m)
{
	static const char *const names[] = {"regular", "forward",  "reverse",
					    "socks5",  "upstream", "transparent"};
	return (size_t)m < sizeof names / sizeof names[0] ? names[m] : "?";
}

/* Each listener's label once its port is bound: "NAME@HOST:PORT". */
static void label_listeners(struct proxy *p)
{
	for (size_t i = 0; i < p->num_listeners; i++) {
		struct proxy_listener *l = &p->listeners[i];
		char a[URL_HOST_MAX + 16];
		url_format_authority(a, sizeof a, l->host, l->port, -1);
		l->label = xasprintf("%s@%s", l->name ? l->name : mode_name(l->mode), a);
	}
}

static void load_local_addrs(struct proxy *p)
{
	struct ifaddrs *ifs = NULL;
	if (getifaddrs(&ifs) != 0)
		return;
	size_t n = 0;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next)
		n++;
	p->local_addrs = xcalloc(n + 1, sizeof *p->local_addrs);
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			memcpy(&p->local_addrs[p->env.num_local_addrs++], i->ifa_addr,
			       sizeof(struct sockaddr_in));
		else if (i->ifa_addr->sa_family == AF_INET6)
			memcpy(&p->local_addrs[p->env.num_local_addrs++], i->ifa_addr,
			       sizeof(struct sockaddr_in6));
	}
	freeifaddrs(ifs);
	p->env.local_addrs = p->local_addrs;
}

/* A worker's loop: without locks, as only the worker touches it (see the top). */
static struct event_base *new_base(void)
{
	struct event_config *ec = event_config_new();
	if (!ec)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
	struct event_base *base = event_base_new_with_config(ec);
	event_config_free(ec);
	return base;
}

void proxy_preinit(void)
{
	evmem_install();
}

struct proxy *proxy_new(const struct proxy_config *cfg, char *err, size_t errlen)
{
	struct proxy *p = xcalloc(1, sizeof *p);
	p->cfg = *cfg;
	p->listen_host = xstrdup(cfg->listen_host ? cfg->listen_host : "127.0.0.1");
	p->web_host = xstrdup(cfg->web_host ? cfg->web_host : "");
	p->confdir = xstrdup(cfg->confdir ? cfg->confdir : ".");
	p->cfg.listen_host = p->listen_host;
	p->cfg.web_host = p->web_host;
	p->cfg.confdir = p->confdir;
	p->token_cookie = xstrdup(cfg->token_cookie ? cfg->token_cookie : "");
	p->cfg.token_cookie = p->token_cookie;
	/* the regex lists are only read here, compiled into the rule set */
	p->cfg.ignore_hosts = p->cfg.allow_hosts = NULL;
	p->cfg.num_ignore_hosts = p->cfg.num_allow_hosts = 0;
	if (p->cfg.threads < 1)
		p->cfg.threads = 1;
	p->cfg.listeners = NULL;
	p->cfg.num_listeners = 0;
	copy_listeners(p, cfg);

	struct rules *r = rules_new(cfg->ignore_hosts, cfg->num_ignore_hosts, cfg->allow_hosts,
				    cfg->num_allow_hosts, err, errlen);
	if (!r)
		goto fail;
	p->rules = rules_live_new(r);
	p->ic = intercept_new(client_command);
	if (cfg->intercept_budget)
		intercept_set_budget(p->ic, cfg->intercept_budget);
	char cerr[256];
	p->cf = certforge_open(p->confdir, cerr, sizeof cerr);
	if (!p->cf) {
		snprintf(err, errlen, "CA in %s: %s", p->confdir, cerr);
		goto fail;
	}
	/* both kinds: --ssl-insecure can change while the proxy runs (proxy_set_options()) */
	p->upstream_ctx = tls_upstream_ctx_new(0, cerr, sizeof cerr);
	p->upstream_insecure_ctx =
	    p->upstream_ctx ? tls_upstream_ctx_new(1, cerr, sizeof cerr) : NULL;
	p->client_ctx = p->upstream_insecure_ctx ? tls_client_ctx_new(cerr, sizeof cerr) : NULL;
	if (!p->client_ctx) {
		snprintf(err, errlen, "TLS setup: %s", cerr);
		goto fail;
	}
	load_local_addrs(p);

	const char *t = getenv("FLOWSCOPE_TIMEOUT");
	p->env.timeout_s = t && atoi(t) > 0 ? atoi(t) : DEFAULT_TIMEOUT_S;
	p->env.cfg = &p->cfg;
	p->env.cf = p->cf;
	p->env.upstream_ctx = p->upstream_ctx;
	p->env.upstream_insecure_ctx = p->upstream_insecure_ctx;
	p->env.ssl_insecure = cfg->ssl_insecure;
	p->env.anticache = cfg->anticache;
	p->env.client_ctx = p->client_ctx;
	p->env.rules = p->rules;
	p->env.ic = p->ic;

	p->workers = xcalloc((size_t)p->cfg.threads, sizeof *p->workers);
	p->replays = xcalloc((size_t)p->cfg.threads, sizeof *p->replays);
	for (int i = 0; i < p->cfg.threads; i++) {
		struct worker *w = &p->workers[i];
		p->num_workers++;
		w->p = p;
		w->cw.env = &p->env;
		w->cw.base = new_base();
		w->mb = w->cw.base ? mailbox_new(w->cw.base) : NULL;
		if (!w->mb) {
			snprintf(err, errlen, "cannot create an event loop");
			goto fail;
		}
		intercept_add_worker(p->ic, w->cw.base, w->mb);
		struct timeval tv = {p->env.timeout_s, 0};
		w->cw.timeout_tv = event_base_init_common_timeout(w->cw.base, &tv);
		w->cw.replay = replay_worker_new(&w->cw, w->mb);
		p->replays[i] = w->cw.replay;
		if (setup_dns(w, err, errlen) != 0 || bind_worker(p, w, err, errlen) != 0)
			goto fail;
	}
	label_listeners(p);
	return p;
fail:
	proxy_free(p);
	return NULL;
}

int proxy_start(struct proxy *p)
{
	for (int i = 0; i < p->num_workers; i++) {
		struct worker *w = &p->workers[i];
		int rc = pthread_create(&w->thread, NULL, worker_main, w);
		if (rc != 0) {
			log_error("cannot start proxy worker: %s", strerror(rc));
			return -1;
		}
		w->started = 1;
	}
	return 0;
}

void proxy_stop(struct proxy *p)
{
	for (int i = 0; i < p->num_workers; i++)
		if (p->workers[i].mb) /* a second stop finds it closed: a no-op */
			mailbox_post(p->workers[i].mb, on_stop, NULL, &p->workers[i]);
}

void proxy_free(struct proxy *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->num_workers; i++) {
		struct worker *w = &p->workers[i];
		if (w->started) {
			pthread_join(w->thread, NULL);
		} else if (w->cw.base) {
			/* never ran: close what it has, as on_stop would */
			on_stop(w);
		}
		if (w->cw.dns)
			evdns_base_free(w->cw.dns, 1); /* cancels lookups (their callbacks run) */
		if (w->cw.base) {
			/* let deferred callbacks and finalizers of freed bufferevents run */
			event_base_loop(w->cw.base, EVLOOP_NONBLOCK);
		}
		replay_worker_free(w->cw.replay);
		mailbox_free(w->mb);
		for (size_t j = 0; w->lis && j < p->num_listeners; j++)
			if (w->lis[j].resume)
				event_free(w->lis[j].resume);
		free(w->lis);
		if (w->cw.base)
			event_base_free(w->cw.base);
	}
	free(p->workers);
	free(p->replays);
	for (size_t i = 0; i < p->num_listeners; i++) {
		free((char *)p->listeners[i].host);
		free((char *)p->listeners[i].name);
		free((char *)p->listeners[i].target_host);
		free((char *)p->listeners[i].label);
	}
	free(p->listeners);
	free(p->ports);
	rules_live_free(p->rules);
	intercept_free(p->ic);
	if (p->upstream_ctx)
		SSL_CTX_free(p->upstream_ctx);
	if (p->upstream_insecure_ctx)
		SSL_CTX_free(p->upstream_insecure_ctx);
	if (p->client_ctx)
		SSL_CTX_free(p->client_ctx);
	certforge_free(p->cf);
	free(p->local_addrs);
	free(p->listen_host);
	free(p->web_host);
	free(p->confdir);
	free(p->token_cookie);
	free(p);
}

void proxy_set_options(struct proxy *p, const struct proxy_options *o)
{
	__atomic_store_n(&p->env.ssl_insecure, o->ssl_insecure, __ATOMIC_RELAXED);
	__atomic_store_n(&p->env.anticache, o->anticache, __ATOMIC_RELAXED);
	__atomic_store_n(&p->cfg.body_limit, o->body_limit, __ATOMIC_RELAXED);
	intercept_set_budget(p->ic, o->intercept_budget ? o->intercept_budget : INTERCEPT_BUDGET);
	log_info("options: ssl_insecure %s, anticache %s, body_limit %zu, intercept_budget %zu",
		 o->ssl_insecure ? "on" : "off", o->anticache ? "on" : "off", o->body_limit,
		 intercept_budget(p->ic));
}

int proxy_port(const struct proxy *p)
{
	return p->ports[0];
}

size_t proxy_num_listeners(const struct proxy *p)
{
	return p->num_listeners;
}

const struct proxy_listener *proxy_listener(const struct proxy *p, size_t i)
{
	return i < p->num_listeners ? &p->listeners[i] : NULL;
}

/* The upstream proxy that a replay of a flow recorded through mode (struct flow's,
 * "NAME@HOST:PORT"; may be NULL) goes through: the proxy of this run's upstream: listener of
 * the same NAME with --upstream-auth, else none (a mode from an imported file never names a
 * proxy of its own). Its strings live as long as p. */
static struct dial_via replay_via(const struct proxy *p, const char *mode)
{
	struct dial_via v = {NULL, 0, NULL, NULL, NULL, 0};
	const char *at = mode ? strrchr(mode, '@') : NULL;
	for (size_t i = 0; at && i < p->num_listeners; i++) {
		const struct proxy_listener *l = &p->listeners[i];
		if (l->mode == PROXY_UPSTREAM && l->name &&
		    strlen(l->name) == (size_t)(at - mode) &&
		    strncmp(l->name, mode, (size_t)(at - mode)) == 0) {
			v.host = l->target_host;
			v.port = l->target_port;
			v.auth = p->cfg.upstream_auth;
			break;
		}
	}
	return v;
}

uint64_t proxy_replay(struct proxy *p, struct flow *req, char *err, size_t errlen)
{
	struct dial_via via = replay_via(p, req ? req->mode : NULL);
	return replay_start(p->replays, p->num_workers, req, &via, env_anticache(&p->env), err,
			    errlen);
}

const char *proxy_ca_pem(const struct proxy *p, size_t *len)
{
	return certforge_ca_pem(p->cf, len);
}

/* ---------------------------------------------------------------------------------------- */
/* Live rules and the commands on paused flows, from the web thread.
 *
 * Rules: proxy_set_rules() compiles the host regexes into a new struct rules, hands it the
 * intercept matcher and block rules, and publishes it through the proxy's rules_live; workers
 * take a reference per CONNECT and per request, so a change applies to the next connection
 * or request and nobody waits for a matcher under a lock. The commands go to the worker that
 * holds the paused flow (intercept.c). */

int proxy_set_rules(struct proxy *p, const struct proxy_rules *r, char *err, size_t errlen)
{
	struct rules *n = rules_new(r->ignore_hosts, r->num_ignore_hosts, r->allow_hosts,
				    r->num_allow_hosts, err, errlen);
	if (!n)
		return -1; /* the matchers stay the caller's */
	rules_set_matchers(n, &r->intercept, r->block, r->num_block);
	rules_live_set(p->rules, n);
	log_info("rules: %zu ignore, %zu allow, intercept %s, %zu block rule(s)",
		 r->num_ignore_hosts, r->num_allow_hosts, r->intercept.match ? "on" : "off",
		 r->num_block);
	return 0;
}

int proxy_resume(struct proxy *p, uint64_t id, struct flow *edit, char *err, size_t errlen)
{
	return intercept_send(p->ic, id, INTERCEPT_RESUME, edit, err, errlen);
}

int proxy_edit(struct proxy *p, uint64_t id, struct flow *edit, char *err, size_t errlen)
{
	return intercept_send(p->ic, id, INTERCEPT_EDIT, edit, err, errlen);
}

int proxy_kill(struct proxy *p, uint64_t id, char *err, size_t errlen)
{
	return intercept_send(p->ic, id, INTERCEPT_KILL, NULL, err, errlen);
}
