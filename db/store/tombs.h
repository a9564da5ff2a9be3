/* SPDX-License-Identifier: MIT */
/* tombs.h - what the writer remembers of removed flows, so that events still on their way do
 * not store them again (see tombs.c). Writer thread only. Internal to db/store/. */
#ifndef TOMBS_H
#define TOMBS_H

#include <stddef.h>
#include <stdint.h>

struct tombs {
	uint64_t gone_upto; /* a clear: every id up to this one without a row is gone */
	uint64_t *ids;	    /* ids deleted before their END (open addressing, 0 free); owned */
	size_t cap, num;
};

/* Remembers that flow id was deleted before its END. Past TOMBS_MAX ids (ENDs that never came)
 * the set is emptied first, logged with the store's path. */
void tombs_add(struct tombs *t, uint64_t id, const char *path);
/* 1 when an event of flow id must not make a row: the flow was removed. final: the event is
 * the flow's END, after which none comes, so a remembered delete is forgotten. */
int tombs_is_gone(struct tombs *t, uint64_t id, int final);
/* Forgets every remembered delete (not gone_upto) and frees the set. */
void tombs_clear(struct tombs *t);

#endif
