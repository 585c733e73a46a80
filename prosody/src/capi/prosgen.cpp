// prosgen.cpp - the generic C API: card 0, modules, channels, datafeeds,
// events and error names.
#include <poll.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>

#include "capi/capi.hpp"

using namespace prosody;
using prosody::capi::raw;
using prosody::capi::rc;

namespace {

// What tSMEventId.eip points to: the event and the channels it is bound to,
// so smd_ev_free can unbind it.
struct EventHandle {
  std::shared_ptr<detail::EventObject> object;
  std::mutex m;
  std::vector<std::pair<std::uintptr_t, int>> bindings;  // (channel, event type)
  std::uintptr_t created_for = 0;
  int type = 0;
};

EventHandle* handle_of(const tSMEventId& ev) { return reinterpret_cast<EventHandle*>(ev.eip); }

void fill_event_id(EventHandle* h, tSMEventId& event) {
  event.fd = h->object->fd();
  event.mode = h->object->poll_events();
  event.eip = reinterpret_cast<tSM_EVENT_INTERNALS>(h);
}

struct ErrorName {
  int code;
  const char* name;
};

const ErrorName kErrorNames[] = {
    {0, "OK"},
    {ERR_SM_DEVERR, "ERR_SM_DEVERR"},
    {ERR_SM_PENDING, "ERR_SM_PENDING"},
    {ERR_SM_MORE, "ERR_SM_MORE"},
    {ERR_SM_NO_ACTION, "ERR_SM_NO_ACTION"},
    {ERR_SM_NOT_IMPLEMENTED, "ERR_SM_NOT_IMPLEMENTED"},
    {ERR_SM_BAD_PARAMETER, "ERR_SM_BAD_PARAMETER"},
    {ERR_SM_NO_SUCH_MODULE, "ERR_SM_NO_SUCH_MODULE"},
    {ERR_SM_MODULE_ACCESS, "ERR_SM_MODULE_ACCESS"},
    {ERR_SM_FILE_ACCESS, "ERR_SM_FILE_ACCESS"},
    {ERR_SM_FILE_FORMAT, "ERR_SM_FILE_FORMAT"},
    {ERR_SM_DOWNLOAD, "ERR_SM_DOWNLOAD"},
    {ERR_SM_NO_RESOURCES, "ERR_SM_NO_RESOURCES"},
    {ERR_SM_FIRMWARE_NOT_RUNNING, "ERR_SM_FIRMWARE_NOT_RUNNING"},
    {ERR_SM_MODULE_ALREADY_RUNNING, "ERR_SM_MODULE_ALREADY_RUNNING"},
    {ERR_SM_NO_SUCH_CHANNEL, "ERR_SM_NO_SUCH_CHANNEL"},
    {ERR_SM_NO_DATA_AVAILABLE, "ERR_SM_NO_DATA_AVAILABLE"},
    {ERR_SM_NO_RECORD_IN_PROGRESS, "ERR_SM_NO_RECORD_IN_PROGRESS"},
    {ERR_SM_NO_CAPACITY, "ERR_SM_NO_CAPACITY"},
    {ERR_SM_NO_REPLAY_IN_PROGRESS, "ERR_SM_NO_REPLAY_IN_PROGRESS"},
    {ERR_SM_BAD_DATA_LENGTH, "ERR_SM_BAD_DATA_LENGTH"},
    {ERR_SM_WRONG_CHANNEL_STATE, "ERR_SM_WRONG_CHANNEL_STATE"},
    {ERR_SM_WRONG_CHANNEL_TYPE, "ERR_SM_WRONG_CHANNEL_TYPE"},
    {ERR_SM_NO_SUCH_GROUP, "ERR_SM_NO_SUCH_GROUP"},
    {ERR_SM_NO_SUCH_FIRMWARE, "ERR_SM_NO_SUCH_FIRMWARE"},
    {ERR_SM_NO_SUCH_DIGIT, "ERR_SM_NO_SUCH_DIGIT"},
    {ERR_SM_CHANNEL_ALLOCATED, "ERR_SM_CHANNEL_ALLOCATED"},
    {ERR_SM_NO_DIGIT, "ERR_SM_NO_DIGIT"},
    {ERR_SM_NOT_SAME_MODULE, "ERR_SM_NOT_SAME_MODULE"},
    {ERR_SM_INCOMPATIBLE_DRIVER, "ERR_SM_INCOMPATIBLE_DRIVER"},
    {ERR_SM_INCOMPATIBLE_APP, "ERR_SM_INCOMPATIBLE_APP"},
    {ERR_SM_WRONG_MODULE_TYPE, "ERR_SM_WRONG_MODULE_TYPE"},
    {ERR_SM_NOT_SAME_GROUP, "ERR_SM_NOT_SAME_GROUP"},
    {ERR_SM_NO_LICENCE, "ERR_SM_NO_LICENCE"},
    {ERR_SM_WRONG_FIRMWARE_TYPE, "ERR_SM_WRONG_FIRMWARE_TYPE"},
    {ERR_SM_FIRMWARE_PROBLEM, "ERR_SM_FIRMWARE_PROBLEM"},
    {ERR_SM_OS_RESOURCE_PROBLEM, "ERR_SM_OS_RESOURCE_PROBLEM"},
    {ERR_SM_WRONG_MODULE_STATE, "ERR_SM_WRONG_MODULE_STATE"},
    {ERR_SM_NO_ASSOCIATED_SWITCH, "ERR_SM_NO_ASSOCIATED_SWITCH"},
    {ERR_SM_OS_OTHER_PROBLEM, "ERR_SM_OS_OTHER_PROBLEM"},
    {ERR_SM_OS_INTERRUPTED_WAIT, "ERR_SM_OS_INTERRUPTED_WAIT"},
    {ERR_SM_DISCONNECTED, "ERR_SM_DISCONNECTED"},
};

}  // namespace

int capi::make_owned_event(const std::shared_ptr<detail::EventObject>& object, tSMEventId& out) {
  if (!object || !object->ok()) return ERR_SM_NO_RESOURCES;
  auto* h = new EventHandle;
  h->object = object;
  fill_event_id(h, out);
  return 0;
}

void capi::free_owned_event(const tSMEventId& event) { delete handle_of(event); }

extern "C" {

int sm_get_card_info(struct sm_card_info_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  if (p->card != 0) return ERR_SM_BAD_PARAMETER;
  p->card_type = kSMCarrierCardTypePS;  // a host-software Prosody
  p->card_detected = 1;
  p->module_count = detail::Registry::instance().card_module_count();
  p->physical_address = 0;
  p->io_address = 0;
  p->physical_irq = 0;
  std::snprintf(p->serial_no, sizeof p->serial_no, "%s", capi::kSoftwareCardSerial);
  return 0;
}

int sm_open_module(struct sm_open_module_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  if (p->card_id != 0) return ERR_SM_BAD_PARAMETER;  // only card 0 exists
  std::shared_ptr<detail::Engine> e;
  const Errc r = detail::Registry::instance().open_card_module(static_cast<unsigned>(p->module_ix), e);
  if (r != Errc::ok) return rc(r);
  p->module_id = reinterpret_cast<tSMModuleId>(detail::encode_module(e->module_no()));
  return 0;
}

int sm_close_module(struct sm_close_module_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  std::uint32_t n = 0;
  if (!detail::decode_module(reinterpret_cast<std::uintptr_t>(p->module_id), n)) return ERR_SM_BAD_PARAMETER;
  return rc(detail::Registry::instance().close_held(n));
}

int sm_close_prosody(struct sm_close_prosody_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  if (p->card_id != 0) return ERR_SM_BAD_PARAMETER;
  detail::Registry::instance().close_card();
  return 0;
}

int sm_get_channel_module_id(tSMChannelId channel) {
  detail::ChannelKey key;
  if (!detail::decode_channel(raw(channel), key)) return ERR_SM_NO_SUCH_CHANNEL;
  auto e = capi::engine_of(channel);
  if (!e) return ERR_SM_NO_SUCH_CHANNEL;
  ChannelType t;
  if (e->channel_type(raw(channel), t) != Errc::ok) return ERR_SM_NO_SUCH_CHANNEL;
  const int ix = detail::Registry::instance().card_index_of(key.module);
  return ix >= 0 ? ix : static_cast<int>(key.module);
}

int sm_get_module_card_id(tSMModuleId mod_id) {
  if (!capi::engine_of_module(mod_id)) return ERR_SM_BAD_PARAMETER;
  return 0;
}

int sm_channel_alloc_placed(struct sm_channel_alloc_placed_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  p->channel = kSMNullChannelId;
  auto e = capi::engine_of_module(p->module);
  if (!e) return p->module ? ERR_SM_NO_SUCH_MODULE : ERR_SM_BAD_PARAMETER;
  std::uintptr_t id = 0;
  const int t = capi::enum_value(p->type);
  if (t < 0 || t > 3) return ERR_SM_BAD_PARAMETER;
  const Errc r = e->allocate(static_cast<ChannelType>(t), id);
  if (r != Errc::ok) return rc(r);
  p->channel = capi::channel_handle(id);
  return 0;
}

int sm_channel_release(tSMChannelId channel) {
  PROSODY_ENGINE_OR_RETURN(e, channel);
  return rc(e->release(raw(channel)));
}

int sm_get_channel_type(tSMChannelId channel) {
  PROSODY_ENGINE_OR_RETURN(e, channel);
  ChannelType t;
  const Errc r = e->channel_type(raw(channel), t);
  return r == Errc::ok ? static_cast<int>(t) : rc(r);
}

int sm_channel_info(struct sm_channel_info_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  ChannelType t;
  const Errc r = e->channel_type(raw(p->channel), t);
  if (r != Errc::ok) return rc(r);
  // There is no TDM switch in software: streams and timeslots are -1.
  p->card = 0;
  p->ost = p->ots = p->ist = p->its = -1;
  p->otype = p->itype = static_cast<enum kSMChannelType>(t);
  p->group = 0;
  p->caps_mask = 0;
  return 0;
}

int sm_channel_get_datafeed(struct sm_channel_datafeed_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  p->datafeed = kSMNullDatafeedId;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  std::uintptr_t d = 0;
  const Errc r = e->get_datafeed(raw(p->channel), d);
  if (r == Errc::ok) p->datafeed = reinterpret_cast<tSMDatafeedId>(d);
  return rc(r);
}

int sm_channel_datafeed_connect(struct sm_channel_datafeed_connect_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  return rc(e->connect_datafeed(raw(p->channel), reinterpret_cast<std::uintptr_t>(p->data_source)));
}

int smd_ev_create(tSMEventId* event, tSMChannelId channel, int type, int binding) {
  if (!event) return ERR_SM_BAD_PARAMETER;
  if (type < kSMEventTypeWriteData || type > kSMEventTypeRecog) return ERR_SM_BAD_PARAMETER;
  if (binding != kSMChannelSpecificEvent && binding != kSMChannelSpecificEventNonIdle && binding != kSMAnyChannelEvent)
    return ERR_SM_BAD_PARAMETER;
  if (binding != kSMAnyChannelEvent && channel == kSMNullChannelId) return ERR_SM_NO_SUCH_CHANNEL;
  // A write event is ready as POLLOUT ("room to write"), the others as POLLIN.
  auto object = std::make_shared<detail::EventObject>(type == kSMEventTypeWriteData ? detail::EventObject::Ready::out
                                                                                    : detail::EventObject::Ready::in);
  if (!object->ok()) return ERR_SM_NO_RESOURCES;
  auto* h = new EventHandle;
  h->object = std::move(object);
  h->created_for = raw(channel);
  h->type = type;
  fill_event_id(h, *event);
  return 0;
}

int smd_ev_free(tSMEventId event) {
  EventHandle* h = handle_of(event);
  if (!h) return ERR_SM_BAD_PARAMETER;
  {
    std::lock_guard<std::mutex> lock(h->m);
    for (const auto& [channel, type] : h->bindings) {
      capi::any_channel_bind(capi::channel_handle(channel), type, false);
      if (auto e = capi::engine_of(capi::channel_handle(channel))) e->set_event(channel, type, 0, nullptr);
    }
  }
  delete h;  // the fd closes once the processing thread lets go of it too
  return 0;
}

int smd_ev_wait(tSMEventId event) {
  EventHandle* h = handle_of(event);
  if (!h) return ERR_SM_BAD_PARAMETER;
  return h->object->wait() ? 0 : ERR_SM_OS_INTERRUPTED_WAIT;
}

int sm_channel_set_event(struct sm_channel_set_event_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  if (p->event_type < kSMEventTypeWriteData || p->event_type > kSMEventTypeRecog) return ERR_SM_BAD_PARAMETER;
  EventHandle* h = p->issue_events == kSMChannelNoEvent ? nullptr : handle_of(p->event);
  if (p->issue_events != kSMChannelNoEvent && !h) return ERR_SM_BAD_PARAMETER;
  const Errc r = e->set_event(raw(p->channel), p->event_type, p->issue_events, h ? h->object : nullptr);
  if (r == Errc::ok) capi::any_channel_bind(p->channel, p->event_type, p->issue_events == kSMAnyChannelEvent);
  if (r == Errc::ok && h) {
    std::lock_guard<std::mutex> lock(h->m);
    h->bindings.emplace_back(raw(p->channel), p->event_type);
  }
  return rc(r);
}

char* sm_error_name(struct sm_error_name_parms* p) {
  if (!p) return nullptr;
  for (const auto& en : kErrorNames) {
    if (en.code == p->code) {
      std::snprintf(p->name, sizeof p->name, "%s", en.name);
      return p->name;
    }
  }
  std::snprintf(p->name, sizeof p->name, "Unknown Prosody error: %d 0x%x", p->code, static_cast<unsigned>(p->code));
  return p->name;
}

}  // extern "C"
