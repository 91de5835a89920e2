// anychip info: what a GGUF holds (architecture, sizes, tensor types, tokenizer, context), after
// the same validation `run` applies; --devices lists the devices this build can use.
#include <iostream>
#include <map>
#include <memory>

#include "backend/registry.h"
#include "cli/commands.h"
#include "gguf/gguf_file.h"
#include "model/model.h"
#include "tokenizer/vocab.h"
#include "util/error.h"

namespace anychip::cli {
namespace {

struct InfoOptions {
  std::string model_path;
  bool devices = false;
};

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %s", b, units[u]);
  return buf;
}

int print_devices() {
  for (const auto& d : backend::list_devices()) {
    std::cout << d.backend << ":" << d.index << "  " << d.name << "  vendor " << d.vendor << "  memory "
              << human_bytes(static_cast<double>(d.memory_bytes)) << "\n";
  }
  for (const std::string& note : backend::device_notes()) std::cout << note << "\n";
  return 0;
}

int info(const InfoOptions& o) {
  if (o.devices) return print_devices();
  if (o.model_path.empty()) throw Error("give a model file (or --devices)");
  auto file = gguf::GgufFile::open(o.model_path);
  std::cout << "file:          " << o.model_path << " (GGUF v" << file->version() << ", "
            << human_bytes(static_cast<double>(file->file_size())) << ")\n";
  std::cout << "architecture:  " << file->get_string("general.architecture").value_or("(none)") << "\n";
  if (auto name = file->get_string("general.name")) std::cout << "name:          " << *name << "\n";

  const Vocab vocab = Vocab::from_gguf(*file);
  std::cout << "tokenizer:     " << vocab.model << (vocab.pre.empty() ? "" : " (pre: " + vocab.pre + ")") << ", "
            << vocab.size() << " tokens, bos " << vocab.bos_id << ", eos " << vocab.eos_id << "\n";
  if (file->tensors().empty()) {
    std::cout << "tensors:       0 (vocabulary only)\n";
    return 0;
  }
  auto device = backend::create_device("cpu", {1});
  auto model = model::Model::load(o.model_path, *device);  // validates shapes, types and hyperparameters
  const model::ModelConfig& c = model->config();
  int64_t params = 0;
  std::map<std::string, std::pair<int, int64_t>> by_type;
  for (const auto& t : file->tensors()) {
    params += t.n_elements();
    auto& slot = by_type[std::string(type_name(t.type))];
    slot.first += 1;
    slot.second += static_cast<int64_t>(t.nbytes);
  }
  std::cout << "parameters:    " << params << " (" << static_cast<double>(params) / 1e6 << " M)\n";
  std::cout << "context:       " << c.n_ctx_train << " (training)\n";
  std::cout << "layers:        " << c.n_layer << ", embedding " << c.n_embd << ", FFN " << c.n_ff << "\n";
  std::cout << "heads:         " << c.n_head << " query, " << c.n_head_kv << " key/value, head size " << c.head_dim << "\n";
  std::cout << "rope:          theta " << c.rope_theta << ", "
            << (c.arch->rope_style == backend::RopeStyle::Neox ? "neox" : "normal") << " style"
            << (c.rope_freq_scale != 1.0f ? ", linear scale " + std::to_string(c.rope_freq_scale) : "") << "\n";
  std::cout << "vocabulary:    " << c.n_vocab << " (embedding rows)\n";
  std::cout << "tensors:       " << file->tensors().size() << "\n";
  for (const auto& [type, slot] : by_type) {
    std::cout << "  " << type << ": " << slot.first << " tensors, " << human_bytes(static_cast<double>(slot.second)) << "\n";
  }
  return 0;
}

}  // namespace

Action add_info_command(CLI::App& app) {
  auto o = std::make_shared<InfoOptions>();
  CLI::App* cmd = app.add_subcommand("info", "Describe a GGUF model file");
  cmd->add_option("model", o->model_path, "GGUF file");
  cmd->add_flag("--devices", o->devices, "List the devices this build can use");
  return [o] { return info(*o); };
}

}  // namespace anychip::cli
