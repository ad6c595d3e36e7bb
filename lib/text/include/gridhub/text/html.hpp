#pragma once
/// Escaping text for HTML: one rule for every page gridhub renders (the web form's intake and
/// progress pages, the published report, the operations page).

#include <string>
#include <string_view>

namespace gridhub::text {

/// `s` with & < > " ' replaced by their character references: safe as element text and as a quoted
/// attribute value.
std::string html_escape(std::string_view s);

}  // namespace gridhub::text
