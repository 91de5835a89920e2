#pragma once
// Synthetic prompts of a chosen length without a tokenizer: common short English words, each a
// single token in the vocabularies of Llama, Qwen, Mistral and GPT-style BPEs (with its leading
// space), so `words` words come to about `words` tokens (plus the chat template's few).
#include <cstdint>
#include <string>

namespace anychip::loadgen {

// Different `seed`s give different word orders, so a server's prefix cache cannot serve one
// request's prompt from another's.
std::string synthetic_prompt(int words, uint64_t seed);

}  // namespace anychip::loadgen
