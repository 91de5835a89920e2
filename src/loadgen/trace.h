#pragma once
// Reader for the Azure LLM inference trace CSV (AzurePublicDataset, 2023):
//   TIMESTAMP,ContextTokens,GeneratedTokens
//   2023-11-16 18:15:46.6805900,374,44
#include <string>
#include <vector>

namespace anychip::loadgen {

struct TraceRequest {
  double arrival_s = 0;  // since the first row's timestamp, divided by the time scale
  int prompt_tokens = 0;
  int gen_tokens = 0;
};

// Reads at most `limit` rows (0: all). `time_scale` > 1 replays faster. Throws anychip::Error
// naming the file and line for an unreadable file, a wrong header or a malformed row.
std::vector<TraceRequest> read_azure_trace(const std::string& path, size_t limit, double time_scale);

// Seconds since 1970-01-01 of "YYYY-MM-DD HH:MM:SS[.fraction]" (the trace's clock has no zone);
// false when `text` is not in that form.
bool parse_trace_timestamp(const std::string& text, double& seconds);

}  // namespace anychip::loadgen
