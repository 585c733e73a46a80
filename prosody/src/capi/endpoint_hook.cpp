// endpoint_hook.cpp - external endpoints (prosody/endpoint.hpp): the engine's
// endpoint table, reached by C module ids and ERR_SM_* codes.
#include "capi/capi.hpp"
#include "engine/endpoints.hpp"
#include "prosody/endpoint.hpp"

namespace prosody::endpoint {

using capi::rc;

namespace {

std::shared_ptr<detail::Engine> engine_of_endpoint(std::uintptr_t id) {
  detail::EndpointKey key;
  if (!detail::decode_endpoint(id, key)) return nullptr;
  return detail::Registry::instance().find(key.module);
}

}  // namespace

int module_format(tSMModuleId module, ModuleFormat& format) {
  auto engine = capi::engine_of_module(module);
  if (!engine) return module ? ERR_SM_NO_SUCH_MODULE : ERR_SM_BAD_PARAMETER;
  format.sample_rate = engine->sample_rate();
  format.frame_samples = engine->frame_samples();
  return 0;
}

int add_source(tSMModuleId module, std::shared_ptr<EndpointSource> source, tSMDatafeedId& id) {
  id = kSMNullDatafeedId;
  auto engine = capi::engine_of_module(module);
  if (!engine) return module ? ERR_SM_NO_SUCH_MODULE : ERR_SM_BAD_PARAMETER;
  if (!source) return ERR_SM_BAD_PARAMETER;
  std::uintptr_t raw = 0;
  const Errc e = engine->add_endpoint(std::move(source), nullptr, false, raw);
  if (e == Errc::ok) id = reinterpret_cast<tSMDatafeedId>(raw);
  return rc(e);
}

int add_sink(tSMModuleId module, std::shared_ptr<EndpointSink> sink, std::uintptr_t& id) {
  id = 0;
  auto engine = capi::engine_of_module(module);
  if (!engine) return module ? ERR_SM_NO_SUCH_MODULE : ERR_SM_BAD_PARAMETER;
  if (!sink) return ERR_SM_BAD_PARAMETER;
  return rc(engine->add_endpoint(nullptr, std::move(sink), false, id));
}

int remove(std::uintptr_t id) {
  auto engine = engine_of_endpoint(id);
  return engine ? rc(engine->remove_endpoint(id)) : ERR_SM_BAD_PARAMETER;
}

int connect_sink(std::uintptr_t sink, tSMDatafeedId datafeed) {
  auto engine = engine_of_endpoint(sink);
  return engine ? rc(engine->connect_sink(sink, reinterpret_cast<std::uintptr_t>(datafeed))) : ERR_SM_BAD_PARAMETER;
}

tSMModuleId module_of(std::uintptr_t id) {
  auto engine = engine_of_endpoint(id);
  return engine ? reinterpret_cast<tSMModuleId>(detail::encode_module(engine->module_no())) : kSMNullModuleId;
}

}  // namespace prosody::endpoint
