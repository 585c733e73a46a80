// prospapi.cpp - the speech C API: replay, record, recognition and the
// conferencing primitives, translated to the engine.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "capi/capi.hpp"

using namespace prosody;
using prosody::capi::raw;
using prosody::capi::rc;

namespace prosody::capi {

int map_format(int type, unsigned long sampling_rate, unsigned module_rate, DataFormat& out, unsigned& rate) {
  unsigned long implied_rate = 0;
  switch (type) {
    case kSMDataFormatALawPCM:
      out = DataFormat::alaw;
      break;
    case kSMDataFormatULawPCM:
      out = DataFormat::ulaw;
      break;
    case kSMDataFormat16bit:
      out = DataFormat::linear16;
      break;
    case kSMDataFormat8bit:
      out = DataFormat::unsigned8;
      break;
    case kSMDataFormatSigned8bit:
      out = DataFormat::signed8;
      break;
    case kSMDataFormatOKIADPCM:
      out = DataFormat::oki_adpcm;
      break;
    // Legacy "format plus rate" codes.
    case 8:
      out = DataFormat::alaw;
      implied_rate = 8000;
      break;
    case 7:
      out = DataFormat::ulaw;
      implied_rate = 8000;
      break;
    case 14:
      out = DataFormat::linear16;
      implied_rate = 8000;
      break;
    case 15:
      out = DataFormat::unsigned8;
      implied_rate = 8000;
      break;
    case 20:
      out = DataFormat::signed8;
      implied_rate = 8000;
      break;
    case 2:
      out = DataFormat::oki_adpcm;
      implied_rate = 8000;
      break;
    case 18:
      out = DataFormat::alaw;
      implied_rate = 6000;
      break;
    case 19:
      out = DataFormat::ulaw;
      implied_rate = 6000;
      break;
    case 5:
      out = DataFormat::oki_adpcm;
      implied_rate = 6000;
      break;
    // IMA ADPCM as a raw stream, ACUBLK, Speex, CELP and the legacy "PCM"
    // codes: libsndfile has no codec for them (it has IMA ADPCM only in
    // WAV blocks: the file helpers write those).
    case kSMDataFormatACUBLKPCM:
    case kSMDataFormatIMAADPCM:
    case kSMDataFormatSpeex:
    case 1:
    case 3:
    case 4:
    case 6:
    case 9:
      return ERR_SM_NOT_IMPLEMENTED;
    default:
      return ERR_SM_BAD_PARAMETER;
  }
  if (implied_rate && sampling_rate && sampling_rate != implied_rate) return ERR_SM_BAD_PARAMETER;
  const unsigned long wanted = sampling_rate ? sampling_rate : implied_rate;
  // Another rate than the module's is resampled (libsamplerate).
  if (wanted != 0 && (wanted < 4000 || wanted > 96000)) return ERR_SM_BAD_PARAMETER;
  rate = wanted == module_rate ? 0 : unsigned(wanted);
  return 0;
}

}  // namespace prosody::capi

namespace {

// kSMToneDetection mode -> how results are reported and the qualifying minimum.
bool map_tone_mode(int mode, ListenSettings& s) {
  s.enabled = true;
  switch (mode) {
    case kSMToneDetectionNone:
      s.enabled = false;
      return true;
    case kSMToneDetectionNoMinDuration:
      s.report = ToneReport::at_start;
      s.min_duration = ToneMinDuration::none;
      return true;
    case kSMToneDetectionMinDuration64:
      s.report = ToneReport::at_start;
      s.min_duration = ToneMinDuration::ms64;
      return true;
    case kSMToneDetectionMinDuration40:
      s.report = ToneReport::at_start;
      s.min_duration = ToneMinDuration::ms40;
      return true;
    case kSMToneEndDetectionNoMinDuration:
      s.report = ToneReport::at_end;
      s.min_duration = ToneMinDuration::none;
      return true;
    case kSMToneEndDetectionMinDuration64:
      s.report = ToneReport::at_end;
      s.min_duration = ToneMinDuration::ms64;
      return true;
    case kSMToneEndDetectionMinDuration40:
      s.report = ToneReport::at_end;
      s.min_duration = ToneMinDuration::ms40;
      return true;
    case kSMToneLenDetectionNoMinDuration:
      s.report = ToneReport::with_length;
      s.min_duration = ToneMinDuration::none;
      return true;
    case kSMToneLenDetectionMinDuration64:
      s.report = ToneReport::with_length;
      s.min_duration = ToneMinDuration::ms64;
      return true;
    case kSMToneLenDetectionMinDuration40:
      s.report = ToneReport::with_length;
      s.min_duration = ToneMinDuration::ms40;
      return true;
  }
  return false;
}

// sm_ans_listen_for and sm_beep_listen_for: one detector, on or off.
template <typename Parms>
int listen_for_one(Parms* p, bool ListenSettings::*detector, ListenPart part) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  ListenSettings s;
  s.*detector = p->enable != 0;
  return rc(e->listen_for(raw(p->channel), s, part));
}

}  // namespace

extern "C" {

// ---------------------------------------------------------------------------
// Replay

int sm_replay_start(struct sm_replay_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  if (p->speed != 0 && p->speed != 100) return ERR_SM_NOT_IMPLEMENTED;  // only normal speed
  ReplaySettings s;
  if (int r = capi::map_format(capi::enum_value(p->type), p->sampling_rate, e->sample_rate(), s.format, s.sample_rate))
    return r;
  s.data_length = p->data_length;
  s.volume_db = p->volume;
  s.agc = p->agc != 0;
  s.background = ChannelId{raw(p->background)};
  return rc(e->replay_start(raw(p->channel), s));
}

static int put_replay(struct sm_ts_data_parms* p, bool last) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  if (p->length < 0 || p->length > kSMMaxReplayDataBufferSize) return ERR_SM_BAD_DATA_LENGTH;
  std::size_t accepted = 0;
  return rc(e->replay_put(raw(p->channel), reinterpret_cast<const std::uint8_t*>(p->data),
                          static_cast<std::size_t>(p->length), last, false, accepted));
}

int sm_put_replay_data(struct sm_ts_data_parms* p) { return put_replay(p, false); }
int sm_put_last_replay_data(struct sm_ts_data_parms* p) { return put_replay(p, true); }

int sm_put_audio_data(struct sm_audio_data_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  p->done_length = 0;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  if (p->max_length < 0) return ERR_SM_BAD_DATA_LENGTH;
  std::size_t accepted = 0;
  const Errc r = e->replay_put(raw(p->channel), reinterpret_cast<const std::uint8_t*>(p->data),
                               static_cast<std::size_t>(p->max_length), false, true, accepted);
  p->done_length = static_cast<tSM_INT>(accepted);
  return rc(r);
}

int sm_replay_status(struct sm_replay_status_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  // Legacy any-channel mode: a channel bound to an any-channel write event.
  if (!p->channel && !(p->channel = capi::any_channel_needing_service(kSMEventTypeWriteData)))
    return ERR_SM_NO_SUCH_CHANNEL;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  ReplayStatus s;
  const Errc r = e->replay_status(raw(p->channel), s);
  if (r != Errc::ok) return rc(r);
  p->status = static_cast<enum kSMReplayStatus>(static_cast<int>(s.state));
  p->offset = static_cast<tSM_UT32>(s.offset);
  return 0;
}

int sm_replay_abort(struct sm_replay_abort_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  std::uint64_t offset = 0;
  const Errc r = e->replay_abort(raw(p->channel), offset);
  p->offset = static_cast<tSM_UT32>(offset);
  return rc(r);
}

int sm_replay_adjust(struct sm_replay_adjust_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  if (p->speed != 0 && p->speed != 100) return ERR_SM_NOT_IMPLEMENTED;
  return rc(e->replay_adjust(raw(p->channel), raw(p->background), p->volume, p->agc != 0));
}

// ---------------------------------------------------------------------------
// Record

int sm_record_start(struct sm_record_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  RecordSettings s;
  if (int r = capi::map_format(capi::enum_value(p->type), p->sampling_rate, e->sample_rate(), s.format, s.sample_rate))
    return r;
  // silence_elimination: ms of silence kept either side of sound (ours:
  // Prosody's units are not documented); 1 keeps the minimum, a frame.
  if (p->silence_elimination > 1000) return ERR_SM_BAD_PARAMETER;
  s.silence_elimination_ms = static_cast<std::uint32_t>(p->silence_elimination);
  if (!map_tone_mode(capi::enum_value(p->tone_elimination_mode), s.tone_elimination)) return ERR_SM_BAD_PARAMETER;
  if (s.tone_elimination.enabled) {
    if (p->tone_elimination_set_id > 1) return ERR_SM_BAD_PARAMETER;
    s.tone_elimination.tone_set = static_cast<int>(p->tone_elimination_set_id);
  }
  switch (capi::enum_value(p->alt_data_source_type)) {
    case kSMRecordAltSourceDefault:
      s.source = p->alt_data_source ? RecordSource::alt_input : RecordSource::own_input;
      break;
    case kSMRecordAltSourceInput:
      s.source = p->alt_data_source ? RecordSource::alt_input : RecordSource::own_input;
      break;
    case kSMRecordAltSourceOutput:
      if (!p->alt_data_source) return ERR_SM_BAD_PARAMETER;
      s.source = RecordSource::alt_output;
      break;
    default:
      return ERR_SM_BAD_PARAMETER;
  }
  s.alt_source = ChannelId{raw(p->alt_data_source)};
  s.max_octets = p->max_octets;
  s.max_elapsed_ms = static_cast<std::uint32_t>(p->max_elapsed_time);
  s.max_silence_ms = static_cast<std::uint32_t>(p->max_silence);
  s.max_initial_silence_ms = static_cast<std::uint32_t>(p->max_initial_silence);
  if (p->min_noise_level != 0.0) {
    if (!(p->min_noise_level >= -90.0 && p->min_noise_level <= 3.0)) return ERR_SM_BAD_PARAMETER;
    s.silence_level_db = p->min_noise_level;
  }
  s.volume_db = p->volume;
  s.agc = p->agc != 0;
  return rc(e->record_start(raw(p->channel), s));
}

int sm_get_recorded_data(struct sm_ts_data_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  if (p->channel == kSMNullChannelId) return ERR_SM_NOT_IMPLEMENTED;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  // Up to length octets (at most kSMMaxRecordDataBufferSize), so a smaller
  // buffer is never overrun. length 0 (a zeroed struct, as applications
  // written for TiNG's library leave it: that library fills up to 2048
  // whatever length holds) means the full 2048. length is set to what was
  // delivered.
  if (p->length < 0) return ERR_SM_BAD_DATA_LENGTH;
  const std::size_t room = p->length == 0 ? std::size_t{kSMMaxRecordDataBufferSize}
                                          : std::min<std::size_t>(std::size_t(p->length), kSMMaxRecordDataBufferSize);
  std::size_t got = 0;
  const Errc r = e->record_get(raw(p->channel), reinterpret_cast<std::uint8_t*>(p->data), room, got);
  p->length = static_cast<tSM_INT>(got);
  return rc(r);
}

int sm_record_status(struct sm_record_status_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  // Legacy any-channel mode: a channel bound to an any-channel read event.
  if (!p->channel && !(p->channel = capi::any_channel_needing_service(kSMEventTypeReadData)))
    return ERR_SM_NO_SUCH_CHANNEL;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  RecordStatus s;
  const Errc r = e->record_status(raw(p->channel), s);
  if (r != Errc::ok) return rc(r);
  switch (s.state) {
    case RecordState::complete:
      p->status = kSMRecordStatusComplete;
      break;
    case RecordState::complete_data:
      p->status = kSMRecordStatusCompleteData;
      break;
    case RecordState::overrun:
      p->status = kSMRecordStatusOverrun;
      break;
    case RecordState::data:
      p->status = kSMRecordStatusData;
      break;
    case RecordState::no_data:
      p->status = kSMRecordStatusNoData;
      break;
    case RecordState::recognition:
      p->status = kSMRecordStatusRecognition;
      break;
  }
  p->recog_type = static_cast<enum kSMRecognition>(static_cast<int>(s.recognition.type));
  p->param0 = s.recognition.param0;
  p->param1 = s.recognition.param1;
  p->termination_reason = static_cast<enum kSMRecordHowTerminated>(static_cast<int>(s.termination));
  p->termination_octets = static_cast<tSM_UT32>(s.termination_octets);
  p->sample_rate = e->sample_rate();
  return 0;
}

int sm_record_agc_adjust(struct sm_record_agc_adjust_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  return rc(e->record_agc_adjust(raw(p->channel), p->gain));
}

int sm_record_agc_adjust_settings(struct sm_record_agc_adjust_settings_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  RecordAgcSettings s;
  s.max_level_decay = p->max_level_decay;
  s.target_level_db = p->target_level;
  return rc(e->record_agc_settings(raw(p->channel), s));
}

int sm_channel_set_output_threshold(struct sm_channel_set_output_threshold_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  return rc(e->set_threshold(raw(p->channel), true, p->minimum_bits));
}

int sm_channel_set_input_threshold(struct sm_channel_set_input_threshold_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  return rc(e->set_threshold(raw(p->channel), false, p->minimum_bits));
}

int sm_record_abort(struct sm_record_abort_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  return rc(e->record_abort(raw(p->channel), p->discard != 0));
}

// ---------------------------------------------------------------------------
// Recognition

int sm_listen_for(struct sm_listen_for_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  ListenSettings s;
  if (!map_tone_mode(capi::enum_value(p->tone_detection_mode), s)) return ERR_SM_BAD_PARAMETER;
  if (s.enabled && p->active_tone_set_id < 0) return ERR_SM_BAD_PARAMETER;  // unknown sets: the engine
  const int mapping = capi::enum_value(p->map_tones_to_digits);
  if (mapping != kSMNoDigitMapping && mapping != kSMDTMFToneSetDigitMapping) return ERR_SM_BAD_PARAMETER;
  if (p->enable_grunt_detection) return ERR_SM_NOT_IMPLEMENTED;
  s.tone_set = p->active_tone_set_id;
  s.map_to_digits = mapping == kSMDTMFToneSetDigitMapping;
  s.cptone_recognition = p->enable_cptone_recognition != 0;
  return rc(e->listen_for(raw(p->channel), s, ListenPart::tones));
}

int sm_ans_listen_for(struct sm_ans_listen_for_parms* p) {
  return listen_for_one(p, &ListenSettings::answer_tones, ListenPart::answer_tones);
}

int sm_beep_listen_for(struct sm_beep_listen_for_parms* p) {
  return listen_for_one(p, &ListenSettings::beeps, ListenPart::beeps);
}

int sm_get_recognised(struct sm_recognised_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  // Legacy any-channel mode: a channel bound to an any-channel recognition event.
  if (!p->channel && !(p->channel = capi::any_channel_needing_service(kSMEventTypeRecog)))
    return ERR_SM_NO_SUCH_CHANNEL;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  Recognition r;
  const Errc err = e->get_recognised(raw(p->channel), r);
  if (err != Errc::ok) return rc(err);
  p->type = static_cast<enum kSMRecognition>(static_cast<int>(r.type));
  p->param0 = r.param0;
  p->param1 = r.param1;
  return 0;
}

int sm_discard_recognised(tSMChannelId channel) {
  PROSODY_ENGINE_OR_RETURN(e, channel);
  return rc(e->discard_recognised(raw(channel)));
}

// ---------------------------------------------------------------------------
// Conferencing primitives

int sm_conf_prim_start(struct sm_conf_prim_start_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  OutputSettings s;
  s.volume_db = p->volume;
  s.agc = p->agc != 0;
  return rc(e->conf_start(raw(p->channel), s, capi::enum_value(p->conf_type)));
}

int sm_conf_prim_attach(struct sm_conf_prim_attach_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  int id = -1;
  return rc(e->conf_attach(raw(p->channel), capi::enum_value(p->conf_type), id));
}

int sm_conf_prim_detach(struct sm_conf_prim_detach_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  return rc(e->conf_detach(raw(p->channel), capi::enum_value(p->conf_type)));
}

int sm_conf_prim_add(struct sm_conf_prim_add_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  int id = -1;
  const Errc r = e->conf_add(raw(p->channel), raw(p->participant), p->factor, id);
  if (r == Errc::ok) p->id = id;
  return rc(r);
}

int sm_conf_prim_leave(struct sm_conf_prim_leave_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  return rc(e->conf_leave(raw(p->channel), p->id));
}

int sm_conf_prim_clone(struct sm_conf_prim_clone_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  return rc(e->conf_clone(raw(p->channel), raw(p->model)));
}

int sm_conf_prim_stop(struct sm_conf_prim_stop_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  return rc(e->conf_stop(raw(p->channel), p->no_wait == 0));
}

int sm_conf_prim_abort(tSMChannelId channel) {
  PROSODY_ENGINE_OR_RETURN(e, channel);
  return rc(e->conf_stop(raw(channel), true));
}

int sm_conf_prim_adj_output(struct sm_conf_prim_adj_output_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  OutputSettings s;
  s.volume_db = p->volume;
  s.agc = p->agc != 0;
  return rc(e->conf_adjust_output(raw(p->channel), s));
}

int sm_conf_prim_adj_input(struct sm_conf_prim_adj_input_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  InputSettings s;
  s.mute = p->volume == kSMConfAdjInputVolumeMute;
  s.volume_db = s.mute ? 0.0 : p->volume;
  s.agc = p->agc != 0;
  return rc(e->conf_adjust_input(raw(p->channel), s));
}

int sm_conf_prim_adj_input_settings(struct sm_conf_prim_adj_input_settings_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  InputAgcSettings s;
  s.max_level_decay = p->max_level_decay;
  s.target_level_db = p->target_level;
  return rc(e->conf_input_agc(raw(p->channel), s));
}

int sm_conf_prim_adj_tracking(struct sm_conf_prim_adj_tracking_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  TrackingSettings s;
  s.min_noise_level_db = p->min_noise_level;
  s.speech_thresh = p->speech_thresh;
  return rc(e->conf_tracking(raw(p->channel), s));
}

int sm_conf_prim_info(struct sm_conf_prim_info_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  std::vector<int> active;
  const Errc r = e->conf_members(raw(p->channel), nullptr, &active, true);
  if (r != Errc::ok) return rc(r);
  // participant_count counts every active participant; the map can show ids
  // 0..63 only (prosody_sw_conf_prim_active_ids lists all).
  std::memset(p->speakers, 0, sizeof p->speakers);
  for (int id : active)
    if (id >= 0 && id < 64) p->speakers[id >> 3] = static_cast<char>(p->speakers[id >> 3] | (1 << (id & 7)));
  p->participant_count = static_cast<tSM_INT>(active.size());
  return 0;
}

int sm_conf_prim_config_activity_reporting(struct sm_conf_prim_config_activity_reporting_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  if (p->sensitivity > 100) return ERR_SM_BAD_PARAMETER;
  if (p->delay > 3600000UL) return ERR_SM_BAD_PARAMETER;
  return rc(
      e->conf_config_activity(raw(p->channel), static_cast<unsigned>(p->delay), static_cast<unsigned>(p->sensitivity)));
}

int sm_conf_prim_status(struct sm_conf_prim_status_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  detail::Engine::ConfStatus status;
  ActivityReport report;
  const Errc r = e->conf_status(raw(p->channel), status, report);
  if (r != Errc::ok) return rc(r);
  switch (status) {
    case detail::Engine::ConfStatus::running:
      p->status = kSMConfStatusRunning;
      break;
    case detail::Engine::ConfStatus::stopped:
      p->status = kSMConfStatusStopped;
      break;
    case detail::Engine::ConfStatus::active_inputs:
      p->status = kSMConfStatusActiveInputs;
      for (int i = 0; i < 4; ++i) {
        p->u.active_inputs.input[i].id = report.ranks[static_cast<std::size_t>(i)].id;
        // power: the input's level in hundredths of a dB relative to 0 dBm0.
        p->u.active_inputs.input[i].power =
            report.ranks[static_cast<std::size_t>(i)].id < 0
                ? 0
                : static_cast<tSM_INT>(std::lround(report.ranks[static_cast<std::size_t>(i)].level_dbm0 * 100.0));
      }
      break;
  }
  return 0;
}

int sm_set_sidetone_channel(struct sm_set_sidetone_channel_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  return rc(e->set_sidetone(raw(p->channel), raw(p->output)));
}

}  // extern "C"
