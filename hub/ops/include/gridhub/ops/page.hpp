#pragma once
/// The one page gridhub-ops serves: HTML, CSS, script and the county's grid map (inline SVG, one
/// <path class="grid"> per grid of grids.csv) in a single document — nothing fetched from anywhere
/// but this process. The script opens /events (server-sent events) and redraws on each "summary".

#include <string>
#include <string_view>

#include "gridhub/ops/world.hpp"
#include "gridhub/text/html.hpp"

namespace gridhub::ops {

/// The page for `world`, titled `title`. Built once at start: the world does not change while running.
std::string render_page(const World& world, std::string_view title);

/// `s` with &, <, >, " and ' escaped for HTML text and attribute values.
using text::html_escape;

}  // namespace gridhub::ops
