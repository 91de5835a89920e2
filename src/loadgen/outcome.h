#pragma once
// What one request produced, as the client measured it. Times are seconds.
#include <string>
#include <vector>

namespace anychip::loadgen {

enum class Status {
  completed,     // a full reply with at least one content chunk
  failed,        // connection error, non-200, error event, malformed stream, no content
  disconnected,  // the client abandoned it mid-stream on purpose (--disconnect)
};

struct RequestOutcome {
  Status status = Status::failed;
  std::string error;          // the reason, for failed requests
  int prompt_tokens = 0;      // the server's usage.prompt_tokens, else the requested length
  int output_tokens = 0;      // the server's usage.completion_tokens, else content chunks seen
  double ttft = 0;            // send -> first non-empty content chunk
  double e2e = 0;             // send -> last event of the reply
  std::vector<double> itl;    // gaps between successive content chunks
  double start = 0, end = 0;  // send and end of the reply, from the start of the run
};

}  // namespace anychip::loadgen
