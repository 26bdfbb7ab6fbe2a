// SPDX-License-Identifier: GPL-2.0
/*
 * The node's ring, kept in its cache directory: the view it last held and
 * its name, so that a node started after its module was reloaded, or its
 * host rebooted, is in its ring again without asking anyone (a cluster
 * that went down whole comes back with no seed). The view is saved as a
 * whole ring encoding (the uapi header's), epoch and floor included, so a
 * view it held cannot come back from a replayed push after a restart
 * either.
 *
 * Two files, written in turn, so that a crash while one is replaced leaves
 * the other: cachepeer.ring.0 and cachepeer.ring.1, the sequence number's
 * parity naming the file. A failed save is tried again on the same file,
 * never on the other, which holds the last good one. Of the files that
 * check out, the one with the larger sequence number is read. Only files
 * the node's owner owns, writable by no one else, are read: the CRC finds
 * damage, not a file someone else put there. A file of a newer format
 * than this module's makes the node refuse to start on the directory,
 * rather than run on what it cannot read and overwrite it; so does one
 * that cannot be read (an I/O error), rather than overwrite it.
 */

#include <linux/slab.h>
#include <linux/string.h>

#include "crc.h"
#include "ringfile.h"
#include "service.h"

#define CP_RINGFILE_MAGIC	0x676e5243	/* "CRng" little-endian */
#define CP_RINGFILE_VERSION	1
#define CP_RINGFILE_NAME	"cachepeer.ring.%u"

struct cp_ringfile {
	__le32 magic;
	__le16 version;		/* files of a larger version are refused */
	__le16 reserved;
	__le64 seq;		/* the newer file of the two has the larger */
	char name[CACHEPEER_NAME_MAX + 1];	/* the node's, NUL-padded */
	__le32 len;		/* of the ring encoding that follows */
	__le32 crc;		/* CRC-32C of this header before crc, and the encoding */
};

#define CP_RINGFILE_MAX	(sizeof(struct cp_ringfile) + CACHEPEER_RING_ENC_MAX)

static u32 ringfile_crc(const struct cp_ringfile *f)
{
	return cp_crc32c(cp_crc32c(0, f, offsetof(struct cp_ringfile, crc)), f + 1,
			 le32_to_cpu(f->len));
}

/* Process context, the node's ring lock held. */
static void ringfile_save(struct cp_service *svc)
{
	char name[CACHEPEER_NAME_MAX + 1], fname[32];
	struct cp_ringfile *f;
	void *enc;
	size_t len;
	u64 seq;
	int err;

	lockdep_assert_held(&svc->ring_lock);
	seq = svc->ring_seq + 1;
	enc = cp_cluster_encode(&svc->cluster, &len, name);
	/*
	 * A node that has held no view since it was loaded (one that did not
	 * take the saved one: started at another address, say) has nothing
	 * to save, and must not overwrite what it did not take.
	 */
	if (enc && !((struct cachepeer_ring_hdr *)enc)->epoch) {
		kvfree(enc);
		return;
	}
	f = enc ? kvzalloc(sizeof(*f) + len, GFP_KERNEL) : NULL;
	if (!f) {
		kvfree(enc);
		pr_warn_ratelimited("cannot save the ring: out of memory\n");
		return;
	}
	f->magic = cpu_to_le32(CP_RINGFILE_MAGIC);
	f->version = cpu_to_le16(CP_RINGFILE_VERSION);
	f->seq = cpu_to_le64(seq);
	strscpy_pad(f->name, name);
	f->len = cpu_to_le32(len);
	memcpy(f + 1, enc, len);
	kvfree(enc);
	f->crc = cpu_to_le32(ringfile_crc(f));
	snprintf(fname, sizeof(fname), CP_RINGFILE_NAME, (u32)(seq & 1));
	err = cp_store_write_file(&svc->store, fname, f, sizeof(*f) + len);
	kvfree(f);
	if (err)
		pr_warn_ratelimited("cannot save the ring in %s/%s: %d\n", svc->dir, fname, err);
	else
		svc->ring_seq = seq;
}

static void ring_save_work(struct work_struct *work)
{
	struct cp_service *svc = container_of(to_delayed_work(work), struct cp_service,
					      ring_save);

	mutex_lock(&svc->ring_lock);
	if (svc->ring_saving)
		ringfile_save(svc);
	mutex_unlock(&svc->ring_lock);
}

/*
 * One of the two files: its header (encoding after it) if it checks out,
 * NULL if it is missing or does not (*seq: the largest sequence number of
 * a header that reads, so that saves go on past it), ERR_PTR if it is of a
 * newer format (-EPROTONOSUPPORT) or cannot be read.
 */
static struct cp_ringfile *ringfile_read(struct cp_service *svc, unsigned int slot, u64 *seq)
{
	struct cp_ringfile *f;
	char fname[32];
	size_t len;

	snprintf(fname, sizeof(fname), CP_RINGFILE_NAME, slot);
	f = cp_store_read_file(&svc->store, fname, CP_RINGFILE_MAX, &len);
	if (IS_ERR(f)) {
		switch (PTR_ERR(f)) {
		case -ENOENT:
			return NULL;
		case -EBADMSG:		/* not a regular file */
		case -EPERM:		/* not the owner's alone */
		case -EFBIG:
			pr_warn("%s/%s is not the node's ring file: ignored\n", svc->dir, fname);
			return NULL;
		}
		pr_err("%s/%s cannot be read (%ld): not starting on it\n", svc->dir, fname,
		       PTR_ERR(f));
		return f;
	}
	if (len >= sizeof(*f) && le32_to_cpu(f->magic) == CP_RINGFILE_MAGIC)
		*seq = max(*seq, le64_to_cpu(f->seq));
	if (len >= sizeof(*f) && le32_to_cpu(f->magic) == CP_RINGFILE_MAGIC &&
	    le16_to_cpu(f->version) > CP_RINGFILE_VERSION) {
		pr_err("%s/%s is of format %u, newer than this module's %u: not starting on it\n",
		       svc->dir, fname, le16_to_cpu(f->version), CP_RINGFILE_VERSION);
		kvfree(f);
		return ERR_PTR(-EPROTONOSUPPORT);
	}
	if (len < sizeof(*f) || le32_to_cpu(f->magic) != CP_RINGFILE_MAGIC ||
	    len != sizeof(*f) + le32_to_cpu(f->len) ||
	    le32_to_cpu(f->crc) != ringfile_crc(f) || f->reserved ||
	    (le64_to_cpu(f->seq) & 1) != slot ||
	    memchr_inv(f->name + strnlen(f->name, sizeof(f->name)), 0,
		       sizeof(f->name) - strnlen(f->name, sizeof(f->name))) ||
	    f->name[CACHEPEER_NAME_MAX] ||
	    (f->name[0] && !cp_name_valid(f->name, strlen(f->name)))) {
		pr_warn("%s/%s does not check out: ignored\n", svc->dir, fname);
		kvfree(f);
		return NULL;
	}
	return f;
}

/* The newer of the two files that check out, taken into the cluster. */
static int ringfile_load(struct cp_service *svc)
{
	struct cp_ringfile *f[2], *use;
	unsigned int i;
	u64 seq = 0;
	int err = 0;

	for (i = 0; i < 2; i++) {
		f[i] = ringfile_read(svc, i, &seq);
		if (IS_ERR(f[i]))
			err = PTR_ERR(f[i]);
	}
	if (err)
		goto out;
	mutex_lock(&svc->ring_lock);
	svc->ring_seq = max(svc->ring_seq, seq);
	mutex_unlock(&svc->ring_lock);
	use = f[0] && (!f[1] || le64_to_cpu(f[0]->seq) > le64_to_cpu(f[1]->seq)) ? f[0] : f[1];
	if (!use)
		goto out;
	err = cp_cluster_restore(&svc->cluster, use + 1, le32_to_cpu(use->len), use->name,
				 &svc->listen);
	if (err == -ENOMEM)
		goto out;
	if (err)
		pr_warn("%s: the saved ring %s (%d): ignored\n", svc->dir,
			err == -EADDRNOTAVAIL ? "has this node at another address" :
			err == -ERANGE ? "is from the future" : "does not parse", err);
	err = 0;
out:
	for (i = 0; i < 2; i++)
		if (!IS_ERR(f[i]))
			kvfree(f[i]);
	return err;
}

void cp_ringfile_init(struct cp_service *svc)
{
	mutex_init(&svc->ring_lock);
	INIT_DELAYED_WORK(&svc->ring_save, ring_save_work);
	svc->cluster.save = &svc->ring_save;
}

/*
 * Process context, the node starting, its store open: take the saved ring
 * if the node holds none, then keep saving it. -EPROTONOSUPPORT: the
 * directory holds a ring file of a newer format.
 */
int cp_ringfile_start(struct cp_service *svc)
{
	int err = ringfile_load(svc);

	if (err)
		return err;
	mutex_lock(&svc->ring_lock);
	svc->ring_saving = true;
	mutex_unlock(&svc->ring_lock);
	/* A view changed while the node was stopped is saved now. */
	mod_delayed_work(cp_peer_wq, &svc->ring_save, 0);
	return 0;
}

/*
 * Process context, the node stopping, no connection left to change the
 * view: save it a last time, before the store closes.
 */
void cp_ringfile_stop(struct cp_service *svc)
{
	mutex_lock(&svc->ring_lock);
	ringfile_save(svc);
	svc->ring_saving = false;
	mutex_unlock(&svc->ring_lock);
	cancel_delayed_work_sync(&svc->ring_save);
}

/* The namespace going: no save may be pending or running, nor be queued. */
void cp_ringfile_exit(struct cp_service *svc)
{
	mutex_lock(&svc->cluster.lock);
	svc->cluster.save = NULL;
	mutex_unlock(&svc->cluster.lock);
	cancel_delayed_work_sync(&svc->ring_save);
	mutex_destroy(&svc->ring_lock);
}
