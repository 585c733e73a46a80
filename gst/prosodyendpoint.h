/* prosodyendpoint.h - what prosodysink and prosodysrc share: the properties
 * that say which module, channel, party and conference an element uses, its
 * registration with the module's hub, and the GstClock derived from a
 * module. Not installed.
 */
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <memory>
#include <mutex>

#include "prosodymodulehub.hpp"

G_BEGIN_DECLS

/**
 * ProsodyDrive:
 * @PROSODY_DRIVE_DEFAULT: whatever the module has; a module the element
 *   creates gets its configuration (real time unless configured otherwise)
 * @PROSODY_DRIVE_REALTIME: the module must run in real time (live elements)
 * @PROSODY_DRIVE_STEPPED: the module must be stepped (by the elements: file
 *   pipelines, deterministic)
 */
typedef enum {
  PROSODY_DRIVE_DEFAULT = 0,
  PROSODY_DRIVE_REALTIME = 1,
  PROSODY_DRIVE_STEPPED = 2,
} ProsodyDrive;

GType prosody_drive_get_type(void);
#define PROSODY_TYPE_DRIVE (prosody_drive_get_type())

G_END_DECLS

namespace prosody_gst {

/* The endpoint properties, numbered from 1 in every element that has them;
 * the element's own follow kEndpointPropEnd. */
enum EndpointProperty : guint {
  kPropModule = 1,
  kPropParty,
  kPropChannel,
  kPropConference,
  kPropRate,
  kPropFrameDuration,
  kPropDrive,
  kEndpointPropEnd,
};

/* Their values (guarded by the element's object lock). */
struct EndpointProperties {
  std::string module = "0";
  std::string party;
  guint64 channel = 0;
  std::string conference;
  guint rate = 0;
  guint64 frame_duration = 0;
  gint drive = PROSODY_DRIVE_DEFAULT;
};

/* Installs them; what says what the element does with its channel ("feeds
 * its input", "emits its output"). */
void install_endpoint_properties(GObjectClass* klass, const char* what);
/* Sets or gets one (object lock held); false if id is not one of them. */
bool set_endpoint_property(EndpointProperties& props, guint id, const GValue* value);
bool get_endpoint_property(const EndpointProperties& props, guint id, GValue* value);

/* An element's place in a module's hub. */
struct Endpoint {
  std::shared_ptr<ModuleHub> hub;
  std::uint64_t id = 0;

  /* PAUSED->READY: lets the channel go (the element's port with it). */
  void detach() const {
    if (hub) hub->detach(id);
  }
};

/* NULL->READY: opens the module and registers the element (kind) with its
 * hub; on failure posts an element error saying why and returns false. */
bool open_endpoint(GstElement* element, const EndpointProperties& props, EndpointKind kind, Endpoint& endpoint);
/* READY->NULL: takes the element's endpoint (guarded by lock) and
 * unregisters it, the lock dropped (the hub may wait for its thread). */
void close_endpoint(std::mutex& lock, Endpoint& endpoint);

/* The stats structure both elements start from: name, with the channel
 * they use (0: none) and whether the module runs in real time; each adds
 * its own counters. */
GstStructure* endpoint_stats_new(const char* name, const Endpoint& endpoint, guint64 channel);

/* A GstClock that runs with a real-time module: its sample counter (the
 * time of sample s is s / rate), between frames the monotonic clock. Once
 * forgotten (the element lets go of the module) it runs on with the
 * monotonic clock from where it was. */
GstClock* module_clock_new(const prosody::Module& module, const char* name);
void module_clock_forget(GstClock* clock);

/* Posts a warning at most every 5 s per element and counter: true if it is
 * time (last_us updated). */
bool warning_due(gint64& last_us);

}  // namespace prosody_gst
