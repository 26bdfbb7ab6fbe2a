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
 * the other: cachepeer.ring.0 and cachepeer.ring.1. Of those that check
 * out, the one with the larger sequence number is read. A file of a newer
 * format than this module's makes the node refuse to start on the
 * directory, rather than run on what it cannot read and overwrite it.
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
	int err;

	lockdep_assert_held(&svc->ring_lock);
	enc = cp_cluster_encode(&svc->cluster, &len, name);
	f = enc ? kvzalloc(sizeof(*f) + len, GFP_KERNEL) : NULL;
	if (!f) {
		kvfree(enc);
		pr_warn_ratelimited("cannot save the ring: out of memory\n");
		return;
	}
	f->magic = cpu_to_le32(CP_RINGFILE_MAGIC);
	f->version = cpu_to_le16(CP_RINGFILE_VERSION);
	f->seq = cpu_to_le64(++svc->ring_seq);
	strscpy_pad(f->name, name);
	f->len = cpu_to_le32(len);
	memcpy(f + 1, enc, len);
	kvfree(enc);
	f->crc = cpu_to_le32(ringfile_crc(f));
	snprintf(fname, sizeof(fname), CP_RINGFILE_NAME, (u32)(svc->ring_seq & 1));
	err = cp_store_write_file(&svc->store, fname, f, sizeof(*f) + len);
	kvfree(f);
	if (err)
		pr_warn_ratelimited("cannot save the ring in %s/%s: %d\n", svc->dir, fname, err);
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
 * NULL if it is missing or does not, ERR_PTR(-EPROTONOSUPPORT) if it is
 * of a newer format.
 */
static struct cp_ringfile *ringfile_read(struct cp_service *svc, unsigned int slot)
{
	struct cp_ringfile *f;
	char fname[32];
	size_t len;

	snprintf(fname, sizeof(fname), CP_RINGFILE_NAME, slot);
	f = cp_store_read_file(&svc->store, fname, CP_RINGFILE_MAX, &len);
	if (IS_ERR(f)) {
		if (PTR_ERR(f) != -ENOENT)
			pr_warn("%s/%s: not read (%ld)\n", svc->dir, fname, PTR_ERR(f));
		return NULL;
	}
	if (len >= sizeof(*f) && le32_to_cpu(f->magic) == CP_RINGFILE_MAGIC &&
	    le16_to_cpu(f->version) > CP_RINGFILE_VERSION) {
		pr_err("%s/%s is of format %u, newer than this module's %u: not starting on it\n",
		       svc->dir, fname, le16_to_cpu(f->version), CP_RINGFILE_VERSION);
		kvfree(f);
		return ERR_PTR(-EPROTONOSUPPORT);
	}
	if (len < sizeof(*f) || le32_to_cpu(f->magic) != CP_RINGFILE_MAGIC ||
	    len != sizeof(*f) + le32_to_cpu(f->len) ||
	    le32_to_cpu(f->crc) != ringfile_crc(f) || f->name[CACHEPEER_NAME_MAX] ||
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
	int err = 0;

	for (i = 0; i < 2; i++) {
		f[i] = ringfile_read(svc, i);
		if (IS_ERR(f[i]))
			err = PTR_ERR(f[i]);
	}
	if (err)
		goto out;
	use = f[0] && (!f[1] || le64_to_cpu(f[0]->seq) > le64_to_cpu(f[1]->seq)) ? f[0] : f[1];
	if (!use)
		goto out;
	svc->ring_seq = le64_to_cpu(use->seq);
	if (cp_cluster_restore(&svc->cluster, use + 1, le32_to_cpu(use->len), use->name))
		pr_warn("%s: the saved ring does not parse: ignored\n", svc->dir);
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
	queue_delayed_work(cp_peer_wq, &svc->ring_save, 0);
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

/* The namespace going: no save may be pending or running. */
void cp_ringfile_exit(struct cp_service *svc)
{
	cancel_delayed_work_sync(&svc->ring_save);
	mutex_destroy(&svc->ring_lock);
}
