// endpoints.cpp - the C API's TDM endpoints (sm_tdmrx_*, sm_tdmtx_*) on the
// software TDM bus (engine/tdm.hpp).
#include "capi/capi.hpp"
#include "engine/tdm.hpp"

using namespace prosody;
using prosody::capi::rc;

namespace {

std::uintptr_t raw_id(const void* handle) { return reinterpret_cast<std::uintptr_t>(handle); }

// An endpoint of either direction; id is 0 unless it was made.
int create(tSMModuleId module_id, int stream, int timeslot, const kSMTimeslotType& type_field, bool tx,
           std::uintptr_t& id) {
  id = 0;
  auto module = capi::engine_of_module(module_id);
  if (!module) return module_id ? ERR_SM_NO_SUCH_MODULE : ERR_SM_BAD_PARAMETER;
  const auto type = static_cast<detail::TimeslotType>(capi::enum_value(type_field));
  auto& bus = detail::TdmBus::instance();
  return rc(tx ? bus.create_tx(module, stream, timeslot, type, id) : bus.create_rx(module, stream, timeslot, type, id));
}

}  // namespace

extern "C" {

int sm_tdmrx_create(struct sm_tdmrx_create_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  std::uintptr_t id;
  const int r = create(p->module, p->stream, p->timeslot, p->type, false, id);
  p->tdmrx = reinterpret_cast<tSMTDMrxId>(id);
  return r;
}

int sm_tdmtx_create(struct sm_tdmtx_create_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  std::uintptr_t id;
  const int r = create(p->module, p->stream, p->timeslot, p->type, true, id);
  p->tdmtx = reinterpret_cast<tSMTDMtxId>(id);
  return r;
}

int sm_tdmrx_destroy(tSMTDMrxId tdmrx) {
  if (!tdmrx) return 0;  // as the TiNG library: destroying nothing succeeds
  return rc(detail::TdmBus::instance().destroy_rx(raw_id(tdmrx)));
}

int sm_tdmtx_destroy(tSMTDMtxId tdmtx) {
  if (!tdmtx) return 0;
  return rc(detail::TdmBus::instance().destroy_tx(raw_id(tdmtx)));
}

int sm_tdmrx_get_datafeed(struct sm_tdmrx_datafeed_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  p->datafeed = kSMNullDatafeedId;
  std::uintptr_t d = 0;
  const Errc e = detail::TdmBus::instance().rx_datafeed(raw_id(p->tdmrx), d);
  if (e == Errc::ok) p->datafeed = reinterpret_cast<tSMDatafeedId>(d);
  return rc(e);
}

int sm_tdmtx_datafeed_connect(struct sm_tdmtx_datafeed_connect_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  return rc(detail::TdmBus::instance().connect_tx(raw_id(p->tdmtx), raw_id(p->data_source)));
}

}  // extern "C"
