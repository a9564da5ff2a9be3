/* SPDX-License-Identifier: MIT */
/* mailbox.c - see mailbox.h.
 *
 * Wake-ups: a poster writes the eventfd only when it finds the list empty, so a burst of
 * posts costs one wake-up. The worker reads (resets) the eventfd before it takes the list:
 * a post that lands after the read writes again and wakes it once more, and one that landed
 * before is in the list it takes. (Taking first and reading after could swallow the wake-up
 * of a post made in between, leaving it unrun.) A spurious wake-up finds an empty list.
 *
 * The eventfd is written under the lock: once mailbox_close() has run, no poster touches the
 * descriptor, so mailbox_free() may close it even if a post raced the close. Posts are rare
 * (stop, intercept commands, replays), never per request, so the syscall under the lock costs
 * nothing that matters. */
#include "mailbox.h"

#include "util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

struct item {
	mailbox_fn *run, *drop;
	void *arg;
	struct item *next;
};

struct mailbox {
	pthread_mutex_t mu;	  /* guards head, tail and closed */
	struct item *head, *tail; /* owned: posted, not taken yet */
	int closed;
	int fd;		    /* eventfd: nonzero while a wake-up is due */
	struct event *ev;   /* owned: EV_READ | EV_PERSIST on fd */
	struct item *batch; /* owned: taken, not run yet; base's thread only */
};

/* Drops the jobs of list (their drop, in order) and frees the items. */
static void drop_list(struct item *list)
{
	while (list) {
		struct item *it = list;
		list = it->next;
		if (it->drop)
			it->drop(it->arg);
		free(it);
	}
}

/* Runs what was posted. A job may close the mailbox: mailbox_close() then drops the rest of
 * the batch, which is why the batch lives in mb and not on this stack. */
static void on_ready(evutil_socket_t fd, short what, void *arg)
{
	struct mailbox *mb = arg;
	uint64_t n;
	(void)what;
	if (read(fd, &n, sizeof n) < 0) {
		/* EAGAIN: a spurious wake-up; the list says what is due */
	}
	pthread_mutex_lock(&mb->mu);
	mb->batch = mb->head;
	mb->head = mb->tail = NULL;
	pthread_mutex_unlock(&mb->mu);
	while (mb->batch) {
		struct item *it = mb->batch;
		mb->batch = it->next;
		mailbox_fn *run = it->run;
		void *a = it->arg;
		free(it);
		run(a);
	}
}

struct mailbox *mailbox_new(struct event_base *base)
{
	struct mailbox *mb = xcalloc(1, sizeof *mb);
	pthread_mutex_init(&mb->mu, NULL);
	mb->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (mb->fd >= 0)
		mb->ev = event_new(base, mb->fd, EV_READ | EV_PERSIST, on_ready, mb);
	if (!mb->ev || event_add(mb->ev, NULL) != 0) {
		mailbox_free(mb);
		return NULL;
	}
	return mb;
}

int mailbox_post(struct mailbox *mb, mailbox_fn *run, mailbox_fn *drop, void *arg)
{
	struct item *it = xcalloc(1, sizeof *it);
	it->run = run;
	it->drop = drop;
	it->arg = arg;
	pthread_mutex_lock(&mb->mu);
	if (mb->closed) {
		pthread_mutex_unlock(&mb->mu);
		drop_list(it);
		return -1;
	}
	if (mb->tail) {
		mb->tail->next = it;
	} else {
		static const uint64_t one = 1;
		mb->head = it;
		if (write(mb->fd, &one, sizeof one) < 0) {
			/* cannot fail: the counter is far from its limit */
		}
	}
	mb->tail = it;
	pthread_mutex_unlock(&mb->mu);
	return 0;
}

void mailbox_close(struct mailbox *mb)
{
	pthread_mutex_lock(&mb->mu);
	int was_closed = mb->closed;
	struct item *rest = mb->head;
	mb->closed = 1;
	mb->head = mb->tail = NULL;
	pthread_mutex_unlock(&mb->mu);
	if (was_closed)
		return;
	/* the batch being run was posted before what is still in the list */
	struct item *batch = mb->batch;
	mb->batch = NULL;
	drop_list(batch);
	drop_list(rest);
	if (mb->ev)
		event_del(mb->ev);
}

void mailbox_free(struct mailbox *mb)
{
	if (!mb)
		return;
	mailbox_close(mb);
	if (mb->ev)
		event_free(mb->ev);
	if (mb->fd >= 0)
		close(mb->fd);
	pthread_mutex_destroy(&mb->mu);
	free(mb);
}
