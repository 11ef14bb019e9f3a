#include "model/text.hpp"

namespace conveyor::model {

std::string shown(const json& v) {
  constexpr std::size_t limit = 60;
  std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > limit) {
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
      --cut;
    text = text.substr(0, cut) + "...";
  }
  return text;
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

} // namespace conveyor::model
