#pragma once
/// The built-in intake page of `gridhub-webform serve`, for counties without a form of their own,
/// and its answer pages. Plain HTML5: no JavaScript, no external resources (inline CSS, no web
/// fonts, no images), a viewport meta for phones, Chinese UI. The form posts multipart/form-data
/// (photos) in UTF-8 with a hidden _charset_ (filled by the browser) and a hidden submission_id,
/// generated per page load, that makes a double submit one ticket.
///
/// Fields: content 问题描述 (required), addr 地址/小区, community 所在社区 (a select when the
/// county lists its communities, else free text), name 联系人, tel 联系电话, photo 照片 (file
/// input, several images).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gridhub/v1/wire.pb.h"
#include "gridhub/webform/urlencoded.hpp"

namespace gridhub::webform {

/// `progress_path` non-empty: the page links to 查询进度 there.
std::string intake_page_html(std::string_view title, std::string_view action, const std::vector<std::string>& communities,
                             std::string_view submission_id, std::string_view progress_path = {});

/// 提交成功 with the report's public reference (受理编号, 12 digits shown in groups of four; the
/// element #reference, whose data-key holds the submission's idempotency reference), a link to the
/// progress page (empty progress_path: none) and a link back to the page.
std::string thanks_page_html(std::string_view title, std::string_view page_path, std::string_view public_reference,
                             std::string_view key_reference, std::string_view progress_path = {});

/// 查询进度: the form (受理编号 + 手机号后四位), with `reference` filled in and `message` (a notice
/// in Chinese, e.g. why nothing was found) above it when given.
std::string progress_form_html(std::string_view title, std::string_view progress_path, std::string_view reference,
                               std::string_view message);

/// One ticket's public progress as a resident reads it: status (#status), who has it (#handled-by),
/// the departments' notes (#notes), times in local time at `utc_offset_minutes`.
std::string progress_result_html(std::string_view title, std::string_view progress_path,
                                 const gridhub::v1::PublicProgress& progress, int utc_offset_minutes);

/// "2026-12-03 14:05" in local time at `utc_offset_minutes` ("" for 0).
std::string local_minute(std::int64_t unix_micros, int utc_offset_minutes);

/// The page's form, filled with `values` (decoded fields of a post being answered with an error;
/// empty: a blank form). Fields the page does not show come back as hidden inputs, so resubmitting
/// sends what the sender's own page sent.
std::string form_html(std::string_view action, const std::vector<std::string>& communities, std::string_view submission_id,
                      const std::vector<FormPair>& values);

/// 提交未成功: what is wrong (`field_label` is the page's label of the field at fault) and, when
/// `filled_form` is given (form_html with what was typed), that form to correct and resubmit;
/// otherwise a link back to the page. 5xx statuses say the system is busy or failing, in Chinese.
/// `detail` is shown to the resident: it must name fields, never requests or peers.
std::string error_page_html(std::string_view title, std::string_view page_path, unsigned status, std::string_view reason,
                            std::string_view field_label, std::string_view detail, std::string_view filled_form = {});

}  // namespace gridhub::webform
