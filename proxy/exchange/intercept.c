/* SPDX-License-Identifier: MIT */
/* intercept.c - the intercept's budget and the commands on paused flows, as main.c sends
 * them from the web thread (proxy_resume(), proxy_edit(), proxy_kill() in proxy.c).
 *
 * Budget: the bodies of held and paused flows take memory until the user acts, so they share
 * one budget (--intercept-budget); each exchange charges what it holds (exchange.c) with an
 * atomic counter here, and a match past the budget is not paused.
 *
 * Paused flows: a connection that paused a flow stops reading it and registers (id -> worker,
 * conn) here under a mutex; it unregisters when it resumes, is killed or goes away. Nothing
 * else of a paused flow runs anywhere, so a hundred of them cost a hundred idle sockets. A
 * command from the web thread looks the id up, then posts a job to the owning worker's
 * mailbox (mailbox.h: the workers' event_bases take no locks, so no other thread may touch
 * them) and returns. On the worker the job looks the id up again: only that thread frees its
 * connections, so a connection still registered there is alive; then the registry's run does
 * the work. The registry knows the workers by their event_base, which the connections give
 * (intercept_add()), and each base's mailbox from intercept_add_worker(). */
#include "intercept.h"

#include "mailbox.h"
#include "util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define NUM_BUCKETS 256

struct entry {
	uint64_t id;
	struct event_base *base; /* borrowed: the worker's loop */
	void *owner;		 /* borrowed; only base's thread may touch it */
	struct entry *next;
};

/* How to reach a worker: the loop its connections name, and its mailbox. */
struct route {
	struct event_base *base; /* borrowed */
	struct mailbox *mb;	 /* borrowed */
};

struct intercept {
	pthread_mutex_t mu;		    /* guards buckets */
	struct entry *buckets[NUM_BUCKETS]; /* owned entries, by id */
	struct route *routes;		    /* owned, one per worker; fixed once they run */
	size_t num_routes;		    /* of routes */
	size_t budget;			    /* bytes held flows may take together; atomic */
	size_t charged;			    /* taken now; atomic */
	intercept_run_fn *run;		    /* runs a command on the owner's thread */
};

struct job {
	struct intercept *ic; /* borrowed */
	struct event_base *base;
	uint64_t id;
	enum intercept_cmd cmd;
	struct flow *edit; /* owned, may be NULL */
};

struct intercept *intercept_new(intercept_run_fn *run)
{
	struct intercept *ic = xcalloc(1, sizeof *ic);
	ic->run = run;
	pthread_mutex_init(&ic->mu, NULL);
	ic->budget = INTERCEPT_BUDGET;
	return ic;
}

void intercept_set_budget(struct intercept *ic, size_t bytes)
{
	__atomic_store_n(&ic->budget, bytes, __ATOMIC_RELAXED); /* live: the Options page */
}

size_t intercept_budget(const struct intercept *ic)
{
	return __atomic_load_n(&ic->budget, __ATOMIC_RELAXED);
}

int intercept_charge(struct intercept *ic, size_t n)
{
	size_t had = __atomic_load_n(&ic->charged, __ATOMIC_RELAXED), budget = intercept_budget(ic);
	do {
		if (n > budget || had > budget - n)
			return -1;
	} while (!__atomic_compare_exchange_n(&ic->charged, &had, had + n, 1, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return 0;
}

void intercept_uncharge(struct intercept *ic, size_t n)
{
	__atomic_fetch_sub(&ic->charged, n, __ATOMIC_RELAXED);
}

void intercept_free(struct intercept *ic)
{
	if (!ic)
		return;
	for (size_t i = 0; i < NUM_BUCKETS; i++)
		while (ic->buckets[i]) {
			struct entry *e = ic->buckets[i];
			ic->buckets[i] = e->next;
			free(e);
		}
	pthread_mutex_destroy(&ic->mu);
	free(ic->routes);
	free(ic);
}

void intercept_add_worker(struct intercept *ic, struct event_base *base, struct mailbox *mb)
{
	ic->routes = xrealloc(ic->routes, (ic->num_routes + 1) * sizeof *ic->routes);
	ic->routes[ic->num_routes++] = (struct route){base, mb};
}

/* The mailbox of the worker whose loop is base, or NULL. The routes are fixed: no lock. */
static struct mailbox *mailbox_of(const struct intercept *ic, const struct event_base *base)
{
	for (size_t i = 0; i < ic->num_routes; i++)
		if (ic->routes[i].base == base)
			return ic->routes[i].mb;
	return NULL;
}

void intercept_add(struct intercept *ic, uint64_t id, struct event_base *base, void *owner)
{
	struct entry *e = xcalloc(1, sizeof *e);
	e->id = id;
	e->base = base;
	e->owner = owner;
	pthread_mutex_lock(&ic->mu);
	e->next = ic->buckets[id % NUM_BUCKETS];
	ic->buckets[id % NUM_BUCKETS] = e;
	pthread_mutex_unlock(&ic->mu);
}

void intercept_remove(struct intercept *ic, uint64_t id)
{
	pthread_mutex_lock(&ic->mu);
	for (struct entry **pe = &ic->buckets[id % NUM_BUCKETS]; *pe; pe = &(*pe)->next) {
		if ((*pe)->id == id) {
			struct entry *e = *pe;
			*pe = e->next;
			free(e);
			break;
		}
	}
	pthread_mutex_unlock(&ic->mu);
}

/* The entry of paused flow id, or NULL. Called with mu held. */
static struct entry *find(struct intercept *ic, uint64_t id)
{
	for (struct entry *e = ic->buckets[id % NUM_BUCKETS]; e; e = e->next)
		if (e->id == id)
			return e;
	return NULL;
}

/* A job not run: the worker stopped first. */
static void drop_job(void *arg)
{
	struct job *j = arg;
	flow_free(j->edit);
	free(j);
}

/* On the worker (the mailbox's run). */
static void on_job(void *arg)
{
	struct job *j = arg;
	void *owner = NULL;
	pthread_mutex_lock(&j->ic->mu);
	struct entry *e = find(j->ic, j->id);
	if (e && e->base == j->base)
		owner = e->owner;
	pthread_mutex_unlock(&j->ic->mu);
	if (owner)
		j->ic->run(owner, j->id, j->cmd, j->edit); /* takes the edit */
	else
		flow_free(j->edit); /* gone meanwhile (client left, killed twice) */
	free(j);
}

int intercept_send(struct intercept *ic, uint64_t id, enum intercept_cmd cmd, struct flow *edit,
		   char *err, size_t errlen)
{
	struct job *j = xcalloc(1, sizeof *j);
	j->ic = ic;
	j->id = id;
	j->cmd = cmd;
	j->edit = edit;
	pthread_mutex_lock(&ic->mu);
	struct entry *e = find(ic, id);
	if (e)
		j->base = e->base;
	pthread_mutex_unlock(&ic->mu);
	if (!j->base) {
		snprintf(err, errlen, "flow %llu is not paused", (unsigned long long)id);
		drop_job(j);
		return -1;
	}
	struct mailbox *mb = mailbox_of(ic, j->base);
	if (!mb || mailbox_post(mb, on_job, drop_job, j) != 0) {
		if (!mb)
			drop_job(j);
		snprintf(err, errlen, "flow %llu: could not reach its proxy worker",
			 (unsigned long long)id);
		return -1;
	}
	return 0;
}
