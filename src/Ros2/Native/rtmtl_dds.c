/*
 * rtmtl_dds: the engine's thin shim over Eclipse Cyclone DDS (libddsc 0.10, Debian's cyclonedds-dev).
 *
 * ROS 2 messages cross DDS as plain little-endian CDR. The engine already writes that CDR (src/Common/Ros, the same
 * bytes that MCAP and Foxglove carry), so this shim gives Cyclone a "sertype" whose samples ARE those bytes, the way
 * rmw_cyclonedds_cpp carries ROS 2's own serialisation: a writer sends the bytes as they are, a reader hands them back
 * as they arrived. No IDL and no generated code: a topic is a name and a ROS 2 type name (sensor_msgs::msg::dds_::Image_).
 * The rest (participant, delete) is called from C# directly.
 *
 * Built by src/Ros2/RealtimeMtl.Ros2.csproj when cyclonedds-dev and gcc are present:
 *   gcc -shared -fPIC -O2 rtmtl_dds.c -o librtmtl_dds.so -lddsc
 */
#include <stdlib.h>
#include <string.h>
#include "dds/dds.h"
#include "dds/ddsi/ddsi_sertype.h"
#include "dds/ddsi/ddsi_serdata.h"
#include "dds/ddsi/q_radmin.h"
#include "dds/ddsrt/heap.h"
#include "dds/ddsrt/md5.h"

#define EXPORT __attribute__((visibility("default")))

/* One message: its CDR, encapsulation header included. */
struct raw_serdata {
  struct ddsi_serdata c;
  uint32_t size;
  unsigned char *data;
};

/* A sample as C sees it (dds_write/dds_take on these topics): a pointer and a size. */
struct raw_sample {
  const unsigned char *data;
  uint32_t size;
};

static const struct ddsi_serdata_ops raw_serdata_ops;

static struct raw_serdata *raw_new(const struct ddsi_sertype *type, enum ddsi_serdata_kind kind, size_t size)
{
  struct raw_serdata *d = ddsrt_malloc(sizeof(*d));
  ddsi_serdata_init(&d->c, type, kind);
  d->size = (uint32_t)size;
  d->data = size > 0 ? ddsrt_malloc(size) : NULL;
  return d;
}

static uint32_t raw_get_size(const struct ddsi_serdata *dcmn) { return ((const struct raw_serdata *)dcmn)->size; }

static bool raw_eqkey(const struct ddsi_serdata *a, const struct ddsi_serdata *b) { (void)a; (void)b; return true; }

static void raw_free(struct ddsi_serdata *dcmn)
{
  struct raw_serdata *d = (struct raw_serdata *)dcmn;
  ddsrt_free(d->data);
  ddsrt_free(d);
}

/* Received: a chain of fragments, each [min, maxp1) of the whole. */
static struct ddsi_serdata *raw_from_ser(const struct ddsi_sertype *type, enum ddsi_serdata_kind kind,
                                         const struct nn_rdata *fragchain, size_t size)
{
  struct raw_serdata *d = raw_new(type, kind, size);
  uint32_t off = 0;
  while (fragchain) {
    if (fragchain->maxp1 > off) {
      const unsigned char *payload = NN_RMSG_PAYLOADOFF(fragchain->rmsg, NN_RDATA_PAYLOAD_OFF(fragchain));
      const unsigned char *src = payload + off - fragchain->min;
      uint32_t n = fragchain->maxp1 - off;
      if (off + n > size) n = (uint32_t)size - off;
      memcpy(d->data + off, src, n);
      off += n;
    }
    fragchain = fragchain->nextfrag;
  }
  return &d->c;
}

static struct ddsi_serdata *raw_from_ser_iov(const struct ddsi_sertype *type, enum ddsi_serdata_kind kind,
                                             ddsrt_msg_iovlen_t niov, const ddsrt_iovec_t *iov, size_t size)
{
  struct raw_serdata *d = raw_new(type, kind, size);
  size_t off = 0;
  for (ddsrt_msg_iovlen_t i = 0; i < niov && off < size; i++) {
    size_t n = iov[i].iov_len;
    if (off + n > size) n = size - off;
    memcpy(d->data + off, iov[i].iov_base, n);
    off += n;
  }
  return &d->c;
}

static struct ddsi_serdata *raw_from_keyhash(const struct ddsi_sertype *type, const struct ddsi_keyhash *keyhash)
{
  (void)keyhash;
  return &raw_new(type, SDK_KEY, 0)->c;
}

static struct ddsi_serdata *raw_from_sample(const struct ddsi_sertype *type, enum ddsi_serdata_kind kind, const void *sample)
{
  const struct raw_sample *s = sample;
  if (kind != SDK_DATA) return &raw_new(type, kind, 0)->c;
  struct raw_serdata *d = raw_new(type, kind, s->size);
  memcpy(d->data, s->data, s->size);
  return &d->c;
}

static void raw_to_ser(const struct ddsi_serdata *dcmn, size_t off, size_t sz, void *buf)
{
  memcpy(buf, ((const struct raw_serdata *)dcmn)->data + off, sz);
}

static struct ddsi_serdata *raw_to_ser_ref(const struct ddsi_serdata *dcmn, size_t off, size_t sz, ddsrt_iovec_t *ref)
{
  ref->iov_base = ((const struct raw_serdata *)dcmn)->data + off;
  ref->iov_len = (ddsrt_iov_len_t)sz;
  return ddsi_serdata_ref(dcmn);
}

static void raw_to_ser_unref(struct ddsi_serdata *dcmn, const ddsrt_iovec_t *ref) { (void)ref; ddsi_serdata_unref(dcmn); }

/* A taken sample points into a copy the sample owns (freed by raw_free_samples). */
static bool raw_to_sample(const struct ddsi_serdata *dcmn, void *sample, void **bufptr, void *buflim)
{
  (void)bufptr; (void)buflim;
  const struct raw_serdata *d = (const struct raw_serdata *)dcmn;
  struct raw_sample *s = sample;
  unsigned char *copy = ddsrt_malloc(d->size > 0 ? d->size : 1);
  if (d->size > 0) memcpy(copy, d->data, d->size);
  s->data = copy;
  s->size = d->size;
  return true;
}

static struct ddsi_serdata *raw_to_untyped(const struct ddsi_serdata *dcmn)
{
  struct raw_serdata *d = raw_new(dcmn->type, SDK_KEY, 0);
  d->c.type = NULL;
  return &d->c;
}

static bool raw_untyped_to_sample(const struct ddsi_sertype *type, const struct ddsi_serdata *d, void *sample, void **b, void *l)
{
  (void)type; (void)d; (void)b; (void)l;
  struct raw_sample *s = sample;
  s->data = NULL;
  s->size = 0;
  return true;
}

static size_t raw_print(const struct ddsi_sertype *type, const struct ddsi_serdata *d, char *buf, size_t size)
{
  (void)type;
  return (size_t)snprintf(buf, size, "(%u bytes of CDR)", (unsigned)((const struct raw_serdata *)d)->size);
}

static void raw_get_keyhash(const struct ddsi_serdata *d, struct ddsi_keyhash *buf, bool force_md5)
{
  (void)d; (void)force_md5;
  memset(buf, 0, sizeof(*buf));
}

static uint32_t raw_get_sample_size(const struct ddsi_serdata *d) { return ((const struct raw_serdata *)d)->size; }

static struct ddsi_serdata *raw_from_iox(const struct ddsi_sertype *type, enum ddsi_serdata_kind kind, void *sub, void *buffer)
{
  (void)type; (void)kind; (void)sub; (void)buffer;
  return NULL; /* no shared memory transport */
}

static const struct ddsi_serdata_ops raw_serdata_ops = {
  .eqkey = raw_eqkey, .get_size = raw_get_size, .from_ser = raw_from_ser, .from_ser_iov = raw_from_ser_iov,
  .from_keyhash = raw_from_keyhash, .from_sample = raw_from_sample, .to_ser = raw_to_ser, .to_ser_ref = raw_to_ser_ref,
  .to_ser_unref = raw_to_ser_unref, .to_sample = raw_to_sample, .to_untyped = raw_to_untyped,
  .untyped_to_sample = raw_untyped_to_sample, .free = raw_free, .print = raw_print, .get_keyhash = raw_get_keyhash,
#ifdef DDS_HAS_SHM
  .get_sample_size = raw_get_sample_size, .from_iox_buffer = raw_from_iox,
#endif
};

static void raw_type_free(struct ddsi_sertype *tp)
{
  ddsi_sertype_fini(tp);
  ddsrt_free(tp);
}

static void raw_zero_samples(const struct ddsi_sertype *d, void *samples, size_t count)
{
  (void)d;
  memset(samples, 0, count * sizeof(struct raw_sample));
}

static void raw_realloc_samples(void **ptrs, const struct ddsi_sertype *d, void *old, size_t oldcount, size_t count)
{
  (void)d;
  struct raw_sample *s = ddsrt_realloc(old, count * sizeof(*s));
  if (count > oldcount) memset(s + oldcount, 0, (count - oldcount) * sizeof(*s));
  for (size_t i = 0; i < count; i++) ptrs[i] = &s[i];
}

static void raw_free_samples(const struct ddsi_sertype *d, void **ptrs, size_t count, dds_free_op_t op)
{
  (void)d;
  if (count == 0) return;
  struct raw_sample *s = ptrs[0];
  if (op & DDS_FREE_CONTENTS_BIT)
    for (size_t i = 0; i < count; i++) { ddsrt_free((void *)s[i].data); s[i].data = NULL; s[i].size = 0; }
  if (op & DDS_FREE_ALL_BIT) ddsrt_free(s);
}

static bool raw_type_equal(const struct ddsi_sertype *a, const struct ddsi_sertype *b) { (void)a; (void)b; return true; }
static uint32_t raw_type_hash(const struct ddsi_sertype *tp) { (void)tp; return 0x52544d4cu; }

static size_t raw_serialized_size(const struct ddsi_sertype *d, const void *sample)
{
  (void)d;
  return ((const struct raw_sample *)sample)->size;
}

static bool raw_serialize_into(const struct ddsi_sertype *d, const void *sample, void *dst, size_t dst_size)
{
  (void)d;
  const struct raw_sample *s = sample;
  if (dst_size < s->size) return false;
  memcpy(dst, s->data, s->size);
  return true;
}

static const struct ddsi_sertype_ops raw_sertype_ops = {
  .version = ddsi_sertype_v0, .arg = NULL, .free = raw_type_free, .zero_samples = raw_zero_samples,
  .realloc_samples = raw_realloc_samples, .free_samples = raw_free_samples, .equal = raw_type_equal,
  .hash = raw_type_hash, .type_id = NULL, .type_map = NULL, .type_info = NULL, .derive_sertype = NULL,
  .get_serialized_size = raw_serialized_size, .serialize_into = raw_serialize_into,
};

/* The shim's version: the C# side checks it, so a stale build is refused with a clear line. */
EXPORT int rtmtl_dds_shim_version(void) { return 1; }

/* A topic of raw CDR with the given ROS 2 DDS type name (a keyless topic, as every ROS 2 topic is). */
EXPORT dds_entity_t rtmtl_dds_topic(dds_entity_t participant, const char *topic, const char *type_name)
{
  struct ddsi_sertype *st = ddsrt_malloc(sizeof(*st));
  ddsi_sertype_init_flags(st, type_name, &raw_sertype_ops, &raw_serdata_ops, DDSI_SERTYPE_FLAG_TOPICKIND_NO_KEY);
  struct ddsi_sertype *registered = st;
  dds_entity_t t = dds_create_topic_sertype(participant, topic, &registered, NULL, NULL, NULL);
  if (t < 0) raw_type_free(st);
  return t;
}

static dds_qos_t *qos_for(int reliable, int depth, int transient_local)
{
  dds_qos_t *q = dds_create_qos();
  dds_qset_reliability(q, reliable ? DDS_RELIABILITY_RELIABLE : DDS_RELIABILITY_BEST_EFFORT, DDS_MSECS(100));
  dds_qset_history(q, DDS_HISTORY_KEEP_LAST, depth > 0 ? depth : 1);
  dds_qset_durability(q, transient_local ? DDS_DURABILITY_TRANSIENT_LOCAL : DDS_DURABILITY_VOLATILE);
  /* ROS 2 (rmw_cyclonedds) speaks XCDR1 for its final types: keep to it. */
  dds_data_representation_id_t xcdr1 = DDS_DATA_REPRESENTATION_XCDR1;
  dds_qset_data_representation(q, 1, &xcdr1);
  return q;
}

EXPORT dds_entity_t rtmtl_dds_writer(dds_entity_t participant, dds_entity_t topic, int reliable, int depth, int transient_local)
{
  dds_qos_t *q = qos_for(reliable, depth, transient_local);
  dds_entity_t w = dds_create_writer(participant, topic, q, NULL);
  dds_delete_qos(q);
  return w;
}

/* A reader and the waitset that wakes when it has data: *waitset receives the waitset's handle. */
EXPORT dds_entity_t rtmtl_dds_reader(dds_entity_t participant, dds_entity_t topic, int reliable, int depth, int transient_local,
                                     dds_entity_t *waitset)
{
  dds_qos_t *q = qos_for(reliable, depth, transient_local);
  dds_entity_t r = dds_create_reader(participant, topic, q, NULL);
  dds_delete_qos(q);
  if (r < 0) return r;
  dds_entity_t ws = dds_create_waitset(participant);
  dds_entity_t cond = dds_create_readcondition(r, DDS_ANY_STATE);
  dds_waitset_attach(ws, cond, r);
  *waitset = ws;
  return r;
}

/* Sends one message: CDR with its 4-byte encapsulation header. 0 or a negative DDS return code. */
EXPORT dds_return_t rtmtl_dds_write(dds_entity_t writer, const unsigned char *cdr, uint32_t size)
{
  struct raw_sample s = { cdr, size };
  return dds_write(writer, &s);
}

/* Waits up to timeout_ns for data: > 0 when there is some, 0 on timeout, < 0 on error. */
EXPORT dds_return_t rtmtl_dds_wait(dds_entity_t waitset, int64_t timeout_ns)
{
  return dds_waitset_wait(waitset, NULL, 0, timeout_ns);
}

/* Takes one message: returns 1 and a handle (free with rtmtl_dds_release) to *size bytes of CDR at *data, with the
   writer's source timestamp; 0 when none is waiting; < 0 on error. Invalid samples (disposals) are skipped. */
EXPORT dds_return_t rtmtl_dds_take(dds_entity_t reader, void **handle, const unsigned char **data, uint32_t *size, int64_t *source_ns)
{
  for (;;) {
    struct ddsi_serdata *sd = NULL;
    dds_sample_info_t info;
    dds_return_t n = dds_takecdr(reader, &sd, 1, &info, DDS_ANY_STATE);
    if (n <= 0) return n;
    if (!info.valid_data) { ddsi_serdata_unref(sd); continue; }
    struct raw_serdata *d = (struct raw_serdata *)sd;
    *handle = sd;
    *data = d->data;
    *size = d->size;
    *source_ns = info.source_timestamp;
    return 1;
  }
}

EXPORT void rtmtl_dds_release(void *handle) { if (handle) ddsi_serdata_unref((struct ddsi_serdata *)handle); }

/* How many readers a writer is matched with now (0: publishing costs only the encoding). */
EXPORT int32_t rtmtl_dds_matched(dds_entity_t writer)
{
  dds_publication_matched_status_t st;
  if (dds_get_publication_matched_status(writer, &st) < 0) return -1;
  return (int32_t)st.current_count;
}

/* How many writers a reader is matched with now. */
EXPORT int32_t rtmtl_dds_publishers(dds_entity_t reader)
{
  dds_subscription_matched_status_t st;
  if (dds_get_subscription_matched_status(reader, &st) < 0) return -1;
  return (int32_t)st.current_count;
}
