/* SPDX-License-Identifier: MIT */
/* main.c - flowscope's entry point: parses the command line, opens the store, starts the proxy
 * workers with the store as their flow sink, and waits for SIGINT/SIGTERM. The only file that
 * knows every layer.
 *
 * Shutdown order matters: the proxy stops first (its workers end their open flows, which the
 * sink queues), then the store commits what is queued and closes. */
#include "livecontrol.h"
#include "options.h"
#include "proxy.h"
#include "store.h"
#include "util.h"
#include "web.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* Blocks the stop signals in this thread and every thread started after, so that only
 * sigwait() in main sees them. */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* A random web token: 32 bytes as 64 hex digits, unless --web-token gave one. */
static int make_token(char *out, size_t outlen)
{
	unsigned char raw[32];
	if (outlen < 2 * sizeof raw + 1 || RAND_bytes(raw, sizeof raw) != 1)
		return -1;
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* Every client connection costs a descriptor, two while it is proxied: take the whole hard
 * limit (nginx's worker_rlimit_nofile, HAProxy's automatic maxconn do the same). */
static void raise_fd_limit(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= r.rlim_max)
		return;
	rlim_t was = r.rlim_cur;
	r.rlim_cur = r.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &r) != 0)
		log_warn("cannot raise the file descriptor limit from %llu to %llu: %s",
			 (unsigned long long)was, (unsigned long long)r.rlim_max, strerror(errno));
	else
		log_debug("file descriptor limit raised from %llu to %llu", (unsigned long long)was,
			  (unsigned long long)r.rlim_max);
}

/* A kept token is what make_token() writes, or any 16 to 64 characters a URL carries as is. */
static int token_valid(const char *t)
{
	size_t n = strlen(t);
	if (n < 16 || n > 64)
		return 0;
	return strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") == n;
}

/* Writes token to path, mode 0600, through a temporary file renamed over it, so that a
 * reader never sees half a token. Returns 0, or -1 (logged). */
static int write_token(const char *path, const char *token)
{
	char *tmp = xasprintf("%s.new", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t n = strlen(token);
	int ok = fd >= 0 && fchmod(fd, 0600) == 0 && write(fd, token, n) == (ssize_t)n &&
		 write(fd, "\n", 1) == 1 && fsync(fd) == 0;
	if (fd >= 0 && close(fd) != 0)
		ok = 0;
	if (ok && rename(tmp, path) != 0)
		ok = 0;
	if (!ok) {
		log_error("cannot write the web token to %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return ok ? 0 : -1;
}

/* Reads the token kept at path into out. Returns 0; -1 when there is none or it is not a
 * valid token (logged then). A file others may read is made 0600. */
static int read_token(const char *path, char *out, size_t outlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("cannot read the web token in %s (%s): making a new one", path,
				 strerror(errno));
		return -1;
	}
	struct stat sb;
	if (fstat(fd, &sb) == 0 && (sb.st_mode & 077)) {
		log_warn("%s was readable by others: made 0600", path);
		fchmod(fd, 0600);
	}
	ssize_t got = read(fd, out, outlen - 1);
	close(fd);
	out[got > 0 ? got : 0] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	if (!token_valid(out)) {
		log_warn("%s does not hold a valid token: making a new one", path);
		return -1;
	}
	return 0;
}

/* The web token: --web-token's; else the one kept in CONFDIR/web-token, made at random (and
 * kept, mode 0600) on first start or when --web-token-rotate asks for a new one, so that a
 * page left open finds the same token after a restart. Returns opts' or buf, or NULL (logged). */
static const char *web_token(const struct options *opts, char *buf, size_t buflen)
{
	if (opts->web_token)
		return opts->web_token;
	char *path = xasprintf("%s/web-token", opts->confdir);
	int rc = 0;
	if (opts->web_token_rotate || read_token(path, buf, buflen) != 0) {
		rc = make_token(buf, buflen);
		if (rc != 0)
			log_error("cannot make a random web token");
		else
			rc = write_token(path, buf);
	}
	free(path);
	return rc == 0 ? buf : NULL;
}

static int make_confdir(const char *dir)
{
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	log_error("cannot create config directory %s: %s", dir, strerror(errno));
	return -1;
}

/* The live options survive restarts in the store; those the command line gives replace the
 * stored ones. The result is applied and stored back, so the UI shows it. */
static void apply_start_options(struct proxy *proxy, const struct options *opts,
				struct store *store, const char *stored)
{
	struct liveopts lo;
	char *text = livecontrol_seed_options(stored, opts, &lo);
	livecontrol_apply_options(proxy, &lo);
	store_set_body_limit(store, lo.body_limit);
	store_set_setting(store, "options", text);
	free(text);
}

/* The live rules survive restarts in the store; the command line's host lists, when given,
 * replace the stored ones. The result is applied and stored back, so the UI shows it. The
 * live options likewise (apply_start_options()). */
static void apply_start_rules(struct proxy *proxy, const struct options *opts,
			      struct store *store)
{
	char err[512];
	struct store_reader *rd = store_reader_open(opts->db, err, sizeof err);
	char *stored = rd ? store_reader_setting(rd, "rules") : NULL;
	char *stored_opts = rd ? store_reader_setting(rd, "options") : NULL;
	store_reader_close(rd);
	apply_start_options(proxy, opts, store, stored_opts);
	free(stored_opts);
	char *rules = livecontrol_seed_rules(stored, opts->ignore_hosts, opts->num_ignore_hosts,
					     opts->allow_hosts, opts->num_allow_hosts);
	if (livecontrol_apply_rules(proxy, rules, err, sizeof err) == 0) {
		store_set_setting(store, "rules", rules);
	} else {
		log_warn("stored rules not applied (%s); starting with the command line's", err);
		free(rules);
		rules = livecontrol_seed_rules(NULL, opts->ignore_hosts, opts->num_ignore_hosts,
					       opts->allow_hosts, opts->num_allow_hosts);
		store_set_setting(store, "rules", rules);
	}
	free(rules);
	free(stored);
	/* The UI reads them from the store: committed before it can ask (at most 2 s). */
	uint64_t mark = store_write_mark(store);
	for (int i = 0; i < 2000 && store_done_mark(store) < mark; i++)
		usleep(1000);
}

/* The proxy as the options say, its flows going to store. NULL (logged) on failure. */
static struct proxy *open_proxy(const struct options *opts, struct store *store)
{
	char err[512];
	struct proxy_listener ls[OPTIONS_MAX_MODES];
	for (size_t i = 0; i < opts->num_modes; i++) {
		const struct options_mode *m = &opts->modes[i];
		ls[i] = (struct proxy_listener){
		    .mode = m->mode,
		    .host = m->host[0] ? m->host : NULL,
		    .port = m->port,
		    .name = m->name,
		    .target_host = m->target_host[0] ? m->target_host : NULL,
		    .target_port = m->target_port,
		    .target_tls = m->target_tls,
		};
	}
	struct proxy_config cfg = {
		.listen_host = opts->listen_host,
		.listen_port = opts->listen_port,
		.confdir = opts->confdir,
		.mode = opts->mode,
		.listeners = ls,
		.num_listeners = opts->num_modes,
		.ignore_hosts = opts->ignore_hosts,
		.num_ignore_hosts = opts->num_ignore_hosts,
		.allow_hosts = opts->allow_hosts,
		.num_allow_hosts = opts->num_allow_hosts,
		.ssl_insecure = opts->ssl_insecure,
		.anticache = opts->anticache,
		.threads = opts->threads,
		.body_limit = opts->body_limit,
		.intercept_budget = opts->intercept_budget,
		.web_host = opts->web_host,
		.web_port = opts->web_port,
		.token_cookie = WEB_TOKEN_COOKIE,
		.sink = store_sink(store),
		.proxyauth = opts->proxyauth,
		.upstream_auth = opts->upstream_auth,
		.keep_host_header = opts->keep_host_header,
	};
	struct proxy *proxy = proxy_new(&cfg, err, sizeof err);
	if (!proxy)
		log_error("%s", err);
	return proxy;
}

/* The web server on store, with proxy's CA, control (borrowed: it must outlive the server) and
 * token as the API's token. NULL (logged) on failure. */
static struct web *open_web(const struct options *opts, struct store *store, struct proxy *proxy,
			    const struct web_control *control, const char *token)
{
	char err[512];
	size_t ca_len = 0;
	const char *ca_pem = proxy_ca_pem(proxy, &ca_len);
	struct web_config wcfg = {
		.host = opts->web_host,
		.port = opts->web_port,
		.token = token,
		.store = store,
		.db_path = opts->db,
		.static_dir = opts->static_dir,
		.ca_pem = ca_pem,
		.ca_pem_len = ca_len,
		.control = control,
	};
	struct web *web = web_new(&wcfg, err, sizeof err);
	if (!web)
		log_error("%s", err);
	return web;
}

static void print_banner(const struct options *opts, struct proxy *proxy, struct web *web,
			 const char *token)
{
	for (size_t i = 0; i < proxy_num_listeners(proxy); i++) {
		const struct proxy_listener *l = proxy_listener(proxy, i);
		int v6 = strchr(l->host, ':') != NULL;
		printf("flowscope: proxy listening on http://%s%s%s:%d (mode %s, %d threads)\n",
		       v6 ? "[" : "", l->host, v6 ? "]" : "", l->port, l->name, opts->threads);
	}
	printf("flowscope: CA certificate: %s/ca.pem\n", opts->confdir);
	printf("flowscope: flows stored in %s\n", opts->db);
	printf("flowscope: web UI on http://%s%s%s:%d/?token=%s\n",
	       strchr(opts->web_host, ':') ? "[" : "", opts->web_host,
	       strchr(opts->web_host, ':') ? "]" : "", web_port(web), token);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	proxy_preinit(); /* before any libevent call */
	struct options opts;
	char err[512];
	const char *lvl = getenv("FLOWSCOPE_LOG");
	if (lvl && strcmp(lvl, "debug") == 0)
		log_set_level(LOG_DEBUG);

	if (options_parse(&opts, argc, argv, err, sizeof err) != 0) {
		fprintf(stderr, "flowscope: %s\n", err);
		options_clear(&opts);
		return 2;
	}
	if (opts.help || opts.version) {
		fputs(opts.help ? options_usage() : "flowscope " FLOWSCOPE_VERSION "\n", stdout);
		options_clear(&opts);
		return 0;
	}

	/* Body buffers of up to --body-limit are allocated and freed all the time. glibc raises
	 * its mmap threshold after such frees, so later buffers come from the heap and stay
	 * resident; a fixed threshold keeps them mmap'd and returned to the system on free. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	/* Fixing the threshold also fixes the trim threshold at 128 KiB, so each worker's heap
	 * was shrunk and grown again between requests: page faults on every other malloc. */
	mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);

	raise_fd_limit();
	sigset_t stop_signals;
	block_signals(&stop_signals);
	int status = 1;
	struct store *store = NULL;
	struct proxy *proxy = NULL;
	struct web *web = NULL;
	char token_buf[80];
	if (make_confdir(opts.confdir) != 0)
		goto end;

	struct store_options sopts = {.body_limit = opts.body_limit};
	store = store_open(opts.db, &sopts, err, sizeof err);
	if (!store) {
		log_error("cannot open flow store %s: %s", opts.db, err);
		goto end;
	}
	flow_seed_ids(store_max_id(store) + 1);

	proxy = open_proxy(&opts, store);
	if (!proxy)
		goto end;

	apply_start_rules(proxy, &opts, store);
	struct web_control control = livecontrol_for(proxy);

	const char *token = web_token(&opts, token_buf, sizeof token_buf);
	if (!token)
		goto end;
	web = open_web(&opts, store, proxy, &control, token);
	if (!web)
		goto end;
	if (web_start(web) != 0)
		goto end;
	if (proxy_start(proxy) != 0)
		goto end;

	print_banner(&opts, proxy, web, token);

	int sig = 0;
	sigwait(&stop_signals, &sig);
	log_info("%s received, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	status = 0;
end:
	web_stop(web); /* first: no more store reads or listener calls */
	if (proxy)
		proxy_stop(proxy);
	proxy_free(proxy);
	store_close(store);
	web_free(web); /* after store_close: no listener call can still be running */
	options_clear(&opts);
	return status;
}
