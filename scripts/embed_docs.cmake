# Writes OUT, a C++ file holding every docs/checks/<id>.md page as a string, for checkDoc().
file(GLOB pages "${DOCS_DIR}/*.md")
list(SORT pages)
set(body "")
foreach(page ${pages})
  get_filename_component(id "${page}" NAME_WE)
  file(READ "${page}" content)
  string(APPEND body "    {\"${id}\", R\"KHDOC(${content})KHDOC\"},\n")
endforeach()
set(text "// Generated from docs/checks by scripts/embed_docs.cmake; do not edit.
#include \"docs/check_docs.h\"

#include <utility>

namespace kh {
namespace {
constexpr std::pair<std::string_view, std::string_view> kPages[] = {
${body}    {\"\", \"\"},
};
}  // namespace

std::string_view checkDoc(std::string_view id) {
  for (const auto& [k, v] : kPages)
    if (!k.empty() && k == id) return v;
  return {};
}

}  // namespace kh
")
file(WRITE "${OUT}.tmp" "${text}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
