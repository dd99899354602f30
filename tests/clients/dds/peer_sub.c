/*
 * A ROS 2-style DDS subscriber for the tests, built from ros2_types.idl with Debian's idlc and gcc: it shares no code
 * with the engine. It prints one line per message received, on stdout:
 *   image TOPIC SEC NANOSEC FRAME_ID WIDTHxHEIGHT ENCODING STEP BYTES RECEIVED_NS (wall clock, as the stamps)
 *   info TOPIC SEC NANOSEC FRAME_ID WIDTHxHEIGHT MODEL FX FY CX CY
 *   string TOPIC DATA
 *   tf TOPIC FRAME_ID CHILD QX QY QZ QW
 * With DUMP=DIR in the environment each image's pixel bytes go to DIR/NAME-K.raw (NAME: the topic, '/' as '_').
 * Usage: peer_sub SECONDS STOP_AFTER TOPIC=KIND[:QOS]...   KIND: image|info|string|tf; QOS: be (best effort),
 * rel (reliable, the default) or latched (reliable, transient local). It exits 0 once STOP_AFTER messages came on the
 * first topic, or after SECONDS, printing "done N" with the number of messages of the first topic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dds/dds.h"
#include "ros2_types.h"

#define MAX_TOPICS 16

int main(int argc, char **argv)
{
  if (argc < 4) { fprintf(stderr, "usage: peer_sub SECONDS STOP_AFTER TOPIC=KIND[:QOS]...\n"); return 2; }
  double seconds = atof(argv[1]);
  int stop_after = atoi(argv[2]);
  const char *dump = getenv("DUMP");
  int domain = getenv("ROS_DOMAIN_ID") ? atoi(getenv("ROS_DOMAIN_ID")) : 0;
  dds_entity_t pp = dds_create_participant((dds_domainid_t)domain, NULL, NULL);
  if (pp < 0) { fprintf(stderr, "participant: %s\n", dds_strretcode(-pp)); return 1; }
  dds_entity_t ws = dds_create_waitset(pp);
  int n = argc - 3;
  char names[MAX_TOPICS][256]; char kinds[MAX_TOPICS][16]; dds_entity_t readers[MAX_TOPICS]; int counts[MAX_TOPICS] = {0};
  for (int i = 0; i < n && i < MAX_TOPICS; i++) {
    char spec[512]; snprintf(spec, sizeof spec, "%s", argv[i + 3]);
    char *eq = strchr(spec, '='); if (!eq) { fprintf(stderr, "bad topic spec %s\n", spec); return 2; }
    *eq = 0; char *kind = eq + 1; char *qos = strchr(kind, ':'); if (qos) *qos++ = 0;
    snprintf(names[i], sizeof names[i], "%s", spec); snprintf(kinds[i], sizeof kinds[i], "%s", kind);
    const dds_topic_descriptor_t *desc =
      !strcmp(kind, "image") ? &sensor_msgs_msg_dds__Image__desc : !strcmp(kind, "info") ? &sensor_msgs_msg_dds__CameraInfo__desc :
      !strcmp(kind, "string") ? &std_msgs_msg_dds__String__desc : !strcmp(kind, "tf") ? &tf2_msgs_msg_dds__TFMessage__desc : NULL;
    if (!desc) { fprintf(stderr, "unknown kind %s\n", kind); return 2; }
    char dds_name[300]; snprintf(dds_name, sizeof dds_name, "rt%s", spec);
    dds_entity_t tp = dds_create_topic(pp, desc, dds_name, NULL, NULL);
    if (tp < 0) { fprintf(stderr, "topic %s: %s\n", dds_name, dds_strretcode(-tp)); return 1; }
    dds_qos_t *q = dds_create_qos();
    int best_effort = qos && !strcmp(qos, "be"), latched = qos && !strcmp(qos, "latched");
    dds_qset_reliability(q, best_effort ? DDS_RELIABILITY_BEST_EFFORT : DDS_RELIABILITY_RELIABLE, DDS_SECS(1));
    dds_qset_durability(q, latched ? DDS_DURABILITY_TRANSIENT_LOCAL : DDS_DURABILITY_VOLATILE);
    dds_qset_history(q, DDS_HISTORY_KEEP_LAST, latched ? 1 : 64);
    readers[i] = dds_create_reader(pp, tp, q, NULL);
    dds_delete_qos(q);
    if (readers[i] < 0) { fprintf(stderr, "reader %s: %s\n", dds_name, dds_strretcode(-readers[i])); return 1; }
    dds_entity_t rc = dds_create_readcondition(readers[i], DDS_ANY_STATE);
    dds_waitset_attach(ws, rc, i);
  }
  printf("ready\n"); fflush(stdout);
  dds_time_t end = dds_time() + (dds_duration_t)(seconds * 1e9);
  while (dds_time() < end && (stop_after <= 0 || counts[0] < stop_after)) {
    dds_waitset_wait_until(ws, NULL, 0, end);
    for (int i = 0; i < n; i++) {
      void *samples[1] = { NULL }; dds_sample_info_t info;
      while (dds_take(readers[i], samples, &info, 1, 1) > 0) {
        if (info.valid_data) {
          counts[i]++;
          if (!strcmp(kinds[i], "image")) {
            sensor_msgs_msg_dds__Image_ *m = samples[0];
            printf("image %s %d %u %s %ux%u %s %u %u %lld\n", names[i], m->header.stamp.sec, m->header.stamp.nanosec, m->header.frame_id,
                   m->width, m->height, m->encoding, m->step, m->data._length, (long long)dds_time());
            if (dump) {
              char path[1024], flat[256]; snprintf(flat, sizeof flat, "%s", names[i] + 1);
              for (char *c = flat; *c; c++) if (*c == '/') *c = '_';
              snprintf(path, sizeof path, "%s/%s-%d.raw", dump, flat, counts[i]);
              FILE *f = fopen(path, "wb"); if (f) { fwrite(m->data._buffer, 1, m->data._length, f); fclose(f); }
            }
          } else if (!strcmp(kinds[i], "info")) {
            sensor_msgs_msg_dds__CameraInfo_ *m = samples[0];
            printf("info %s %d %u %s %ux%u %s %.3f %.3f %.3f %.3f\n", names[i], m->header.stamp.sec, m->header.stamp.nanosec, m->header.frame_id,
                   m->width, m->height, m->distortion_model, m->k[0], m->k[4], m->k[2], m->k[5]);
          } else if (!strcmp(kinds[i], "string")) {
            std_msgs_msg_dds__String_ *m = samples[0];
            printf("string %s %s\n", names[i], m->data);
          } else {
            tf2_msgs_msg_dds__TFMessage_ *m = samples[0];
            for (uint32_t k = 0; k < m->transforms._length; k++) {
              geometry_msgs_msg_dds__TransformStamped_ *t = &m->transforms._buffer[k];
              printf("tf %s %s %s %.3f %.3f %.3f %.3f\n", names[i], t->header.frame_id, t->child_frame_id,
                     t->transform.rotation.x, t->transform.rotation.y, t->transform.rotation.z, t->transform.rotation.w);
            }
          }
          fflush(stdout);
        }
        dds_return_loan(readers[i], samples, 1);
        samples[0] = NULL;
      }
    }
  }
  printf("done %d\n", counts[0]); fflush(stdout);
  dds_delete(pp);
  return 0;
}
