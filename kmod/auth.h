/* SPDX-License-Identifier: GPL-2.0 */
/* A node's keys: who may HELLO, in what role, and the member (cluster) keys. */
#ifndef _CP_AUTH_H
#define _CP_AUTH_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/seqlock.h>
#include <linux/workqueue.h>

#include <linux/cachepeer.h>

#define CP_FPR_LEN	8	/* bytes of SHA-256 of a secret that name it */
#define CP_MEMBER_PREFIX "member."

/*
 * A key. Immutable once added but for conns; found under RCU, held by a
 * reference (the node's table has one, each connection that proved it or
 * is proving it one), freed after a grace period in process context.
 */
struct cp_key {
	struct rcu_work free;
	refcount_t ref;
	struct crypto_shash *tfm;	/* keyed hmac(sha256) */
	atomic_t conns;			/* connections authenticated with it */
	bool dead;			/* removed: proving it no longer works */
	bool next;			/* a member key: the next, not the current */
	u8 role;			/* enum cachepeer_role */
	u8 name_len;
	u8 fpr[CP_FPR_LEN];
	char name[CACHEPEER_NAME_MAX + 1];
};

/*
 * A node's keys; edits under the node's lock (which also serialises them).
 * The member keys move between their two slots (a swap, the next promoted):
 * member_seq lets a lookup that found nothing see whether it raced one.
 */
struct cp_keys {
	struct cp_key __rcu *key[CACHEPEER_KEYS_MAX];	/* clients' */
	struct cp_key __rcu *member[2];			/* current, next */
	seqcount_t member_seq;
	atomic_t n;					/* all of them */
};

void cp_keys_init(struct cp_keys *k);
void cp_keys_exit(struct cp_keys *k);
int cp_keys_add(struct cp_keys *k, const char *name, u8 role, const void *secret, size_t len);
struct cp_key *cp_keys_del(struct cp_keys *k, const char *name);
int cp_keys_set_member(struct cp_keys *k, const void *secret, size_t len, bool next,
		       struct cp_key **gone);
struct cp_key *cp_keys_get(struct cp_keys *k, const void *name, size_t len);
struct cp_key *cp_keys_member(struct cp_keys *k);
void cp_key_put(struct cp_key *key);
int cp_keys_for_each(struct cp_keys *k, unsigned long skip,
		     int (*fn)(const struct cp_key *key, void *arg), void *arg);

/* Any context. */
static inline bool cp_keys_any(struct cp_keys *k)
{
	return atomic_read(&k->n);
}

int cp_keys_sign(struct cp_keys *k, const void *data, size_t len, u8 *mac);
bool cp_keys_verify(struct cp_keys *k, const void *data, size_t len, const u8 *mac);
int cp_key_proof(const struct cp_key *key, bool node, const u8 *cnonce, const u8 *snonce,
		 u8 role, u8 *proof);

int cp_auth_init(void);
void cp_auth_exit(void);

#endif /* _CP_AUTH_H */
