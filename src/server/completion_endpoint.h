#pragma once
// POST /v1/chat/completions and /v1/completions: parse, render and tokenize the prompt, submit
// to the engine, and answer through a chunked response that streams the engine's outputs.
#include <httplib.h>

#include "server/metrics.h"
#include "server/request_tracker.h"
#include "server/served_model.h"

namespace anychip::server {

// Throws ApiError for everything decided before the request reaches the engine (bad fields,
// unknown model, context overflow, full queue). ticket: the request's place in the tracker.
void handle_completion(const httplib::Request& req, httplib::Response& res, bool chat, const ServedModel& model,
                       ServerMetrics& metrics, std::shared_ptr<RequestTracker::Ticket> ticket);

}  // namespace anychip::server
