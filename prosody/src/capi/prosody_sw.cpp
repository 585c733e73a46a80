// prosody_sw.cpp - C extensions of the software processor (prosody_sw.h).
#include "prosody/prosody_sw.h"

#include "capi/capi.hpp"

using namespace prosody;
using prosody::capi::raw;
using prosody::capi::rc;

extern "C" {

int prosody_sw_set_module_count(int n) { return rc(detail::Registry::instance().set_card_module_count(n)); }

int prosody_sw_configure_module(struct prosody_sw_module_config_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  ModuleConfig c;
  c.sample_rate = p->sample_rate ? static_cast<unsigned>(p->sample_rate) : 8000u;
  c.frame_us = p->frame_us ? static_cast<unsigned>(p->frame_us) : 10000u;
  switch (capi::enum_value(p->drive_mode)) {
    case kProsodySwDriveRealTime:
      c.drive = DriveMode::realtime;
      break;
    case kProsodySwDriveStepped:
      c.drive = DriveMode::stepped;
      break;
    default:
      return ERR_SM_BAD_PARAMETER;
  }
  return rc(detail::Registry::instance().configure_card_module(static_cast<unsigned>(p->module_ix), c));
}

int prosody_sw_step(tSMModuleId module, tSM_UT32 frames) {
  auto e = capi::engine_of_module(module);
  if (!e) return ERR_SM_BAD_PARAMETER;
  return rc(e->step(static_cast<unsigned>(frames)));
}

int prosody_sw_module_info(struct prosody_sw_module_info_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  auto e = capi::engine_of_module(p->module);
  if (!e) return ERR_SM_BAD_PARAMETER;
  const ModuleStats s = e->stats();
  p->sample_rate = e->sample_rate();
  p->frame_samples = e->frame_samples();
  p->frames_processed = s.frames_processed;
  p->late_frames = s.late_frames;
  p->drive_mode = e->drive_mode() == DriveMode::realtime ? kProsodySwDriveRealTime : kProsodySwDriveStepped;
  return 0;
}

int prosody_sw_conf_prim_active_ids(struct prosody_sw_conf_prim_active_ids_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  if (p->max_ids < 0 || (p->max_ids > 0 && !p->ids)) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  std::vector<int> members, active;
  const Errc r = e->conf_members(raw(p->channel), &members, &active, false);
  if (r != Errc::ok) return rc(r);
  for (std::size_t i = 0; i < active.size() && i < static_cast<std::size_t>(p->max_ids); ++i) p->ids[i] = active[i];
  p->active_count = static_cast<tSM_INT>(active.size());
  p->member_count = static_cast<tSM_INT>(members.size());
  return 0;
}

int prosody_sw_conf_prim_participant_id(tSMChannelId channel) {
  PROSODY_ENGINE_OR_RETURN(e, channel);
  int id = -1;
  const Errc r = e->participant_id(raw(channel), id);
  if (r != Errc::ok) return rc(r);
  return id >= 0 ? id : ERR_SM_WRONG_CHANNEL_STATE;
}

int prosody_sw_open_shared_module(struct prosody_sw_open_shared_module_parms* p) {
  if (!p || !p->name || !*p->name) return ERR_SM_BAD_PARAMETER;
  std::shared_ptr<detail::Engine> e;
  const Errc r = detail::Registry::instance().open_held(p->name, e);
  if (r != Errc::ok) return rc(r);
  p->module_id = reinterpret_cast<tSMModuleId>(detail::encode_module(e->module_no()));
  return 0;
}

}  // extern "C"
