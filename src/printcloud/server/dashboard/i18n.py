"""Hebrew and English: the catalogs, and which one a request gets.

A ``lang`` cookie (set by the switch on every page) wins; otherwise the browser's
``Accept-Language``; otherwise English. Every key exists in both catalogs (a test
checks it), so a page never falls back to a key name.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request

LANGUAGES = ("en", "he")
DEFAULT = "en"
COOKIE = "lang"
_RTL = frozenset({"he"})

Translator = Callable[..., str]

EN: dict[str, str] = {
    "app.name": "PrintCloud",
    "nav.main": "Main menu",
    "nav.skip": "Skip to content",
    "nav.overview": "Overview",
    "nav.jobs": "Print jobs",
    "nav.keys": "API keys",
    "nav.webhooks": "Webhooks",
    "nav.connect": "Connect a computer",
    "nav.password": "Change password",
    "nav.logout": "Log out",
    "nav.signed_in_as": "Signed in as {email}",
    "lang.label": "Language",
    "lang.other_name": "עברית",
    "lang.other_code": "he",
    "login.title": "Log in",
    "login.email": "E-mail",
    "login.password": "Password",
    "login.submit": "Log in",
    "login.no_account": "No account yet?",
    "login.signup_link": "Create one",
    "login.failed": "Wrong e-mail or password.",
    "login.throttled": "Too many failed attempts. Try again later.",
    "signup.title": "Create an account",
    "signup.first_name": "First name",
    "signup.last_name": "Last name",
    "signup.password_hint": "At least 8 characters, not an easy one to guess.",
    "signup.submit": "Create the account",
    "signup.have_account": "Already have an account?",
    "signup.disabled": "Sign-up is turned off on this server. "
    "Ask its administrator for an account.",
    "signup.failed": "The account could not be created:",
    "signup.throttled": "Too many sign-ups from your address. Try again later.",
    "password.title": "Change password",
    "password.current": "Current password",
    "password.new": "New password",
    "password.submit": "Change the password",
    "password.changed": "Your password was changed, and your other sessions were logged out.",
    "password.wrong": "The current password is wrong.",
    "password.weak": "The new password is not acceptable:",
    "overview.title": "Overview",
    "overview.computers": "Computers and printers",
    "overview.no_computers": "No computer is connected yet.",
    "overview.connect_first": "Connect your first computer",
    "overview.jobs_day": "Print jobs in the last 24 hours",
    "overview.total": "Total",
    "overview.recent": "Latest jobs",
    "computer.os": "System",
    "computer.version": "Agent version",
    "computer.last_seen": "Last seen",
    "computer.printers": "Printers",
    "computer.no_printers": "This computer reported no printers.",
    "printer.default": "default",
    "printer.test_page": "Print a test page",
    "printer.test_page_on": "Print a test page on {printer}",
    "printer.test_sent": "A test page was sent to {printer}.",
    "printer.test_title": "PrintCloud test page",
    "printer.about": "About this printer",
    "printer.computer": "Computer",
    "printer.is_default": "The computer's default printer",
    "printer.recent": "Latest jobs on this printer",
    "printer.all_jobs": "All of this printer's jobs",
    "cap.color": "Color",
    "cap.color_yes": "Prints in color",
    "cap.color_no": "Black and white only",
    "cap.duplex": "Two-sided",
    "cap.duplex_yes": "Prints on both sides",
    "cap.duplex_no": "One side only",
    "cap.media": "Paper sizes",
    "cap.bins": "Trays",
    "cap.not_reported": "Not reported",
    "cap.raw": "Raw data",
    "cap.raw_yes": "Takes printer data as it is (labels, receipts: ZPL, EPL, ESC/POS)",
    "ipp.title": "Print from any computer (IPP)",
    "ipp.intro": "This printer is also an IPP Everywhere printer on the internet: add it "
    "to a computer by its address, and print to it from any application's print dialog. "
    "The jobs go through PrintCloud to the agent, and show here, like any other.",
    "ipp.with_key": "With an API key",
    "ipp.address": "Printer address (IPP)",
    "ipp.web_address": "The same address for Windows",
    "ipp.copy_label": "Copy: {what}",
    "ipp.key_auth": "When the system asks for a user name and password, give an API key "
    "that may print (Print only or Full) as the user name, and any password. Make one on "
    "the page",
    "ipp.share_title": "Share link",
    "ipp.share_intro": "Or give the printer an address of its own that needs no key: "
    "whoever has it can print to this printer, and only to it. Replace it, or revoke it, "
    "when it has gone further than it should.",
    "ipp.share_created": "The printer's share link. Copy it now: it will not be shown "
    "again. A link it replaced no longer prints.",
    "ipp.share_address": "Share link (IPP)",
    "ipp.share_web_address": "Share link for Windows",
    "ipp.share_command": "Add it to CUPS (Linux, macOS), no password asked:",
    "ipp.share_live": "This printer has a share link.",
    "ipp.share_begins": "It begins with",
    "ipp.share_none": "This printer has no share link.",
    "ipp.share_create": "Create a share link",
    "ipp.share_replace": "Replace the share link",
    "ipp.share_revoke": "Revoke the share link",
    "ipp.share_revoked": "The share link was revoked: it no longer prints.",
    "ipp.how_title": "Adding the printer",
    "ipp.how_intro": "The addresses below take an API key as the user name; a share link "
    "goes in their place and needs no user name at all.",
    "ipp.field_address": "Address",
    "ipp.field_protocol": "Protocol",
    "ipp.field_queue": "Queue",
    "ipp.field_use": "Use",
    "ipp.field_ip": "IP address",
    "ipp.field_port": "Port",
    "ipp.field_path": "Resource path",
    "ipp.macos_gui": "System Settings → Printers & Scanners → Add Printer, Scanner or Fax "
    "→ the IP tab:",
    "ipp.macos_gui_after": "Choose AirPrint under Use when the Mac offers it. The Mac asks "
    "for the user name and password when it first prints, and can keep them in the "
    "keychain. The IP tab speaks plain IPP: when this server is on https, use Terminal "
    "instead.",
    "ipp.macos_terminal": "Or in Terminal:",
    "ipp.windows": "Settings → Printers & scanners → Add device → “The printer that I want "
    "isn't listed” → “Select a shared printer by name”, with this address (not “Add a "
    "printer using an IP address or hostname”, which takes no path):",
    "ipp.windows_after": "Windows asks for a user name and password, then for a driver: "
    "choose the printer's own, or a generic one.",
    "ipp.linux_terminal": "In a terminal, as an administrator (CUPS; no driver needed):",
    "ipp.linux_desktop": "Or in the desktop's settings: GNOME Settings → Printers → Add "
    "Printer, and type the printer address (IPP) above; KDE System Settings → Printers → "
    "Add Printer → Manual URI, with the same address. The system asks for the user name "
    "when it first prints.",
    "ipp.ios": "iPhone and iPad find printers on their own network only: Settings cannot "
    "add one by address. A configuration profile (Apple Configurator, or a device "
    "management service) can, with an AirPrint payload:",
    "ipp.ios_after": "The phone asks for the user name when it first prints.",
    "ipp.android": "Android cannot add this printer: its Default Print Service and the "
    "Mopria Print Service add printers found on the local network, or by IP address with "
    "their standard path, never by a full address such as the one above. From Android, "
    "print through an application that uses the PrintCloud API.",
    "ipp.formats": "Documents arrive as PDF, the format every IPP Everywhere system can "
    "send; the printer tells each system what it takes.",
    "state.label": "State",
    "state.pending": "Pending",
    "state.sent": "Sent",
    "state.printing": "Printing",
    "state.completed": "Completed",
    "state.error": "Error",
    "state.expired": "Expired",
    "state.online": "Online",
    "state.offline": "Offline",
    "jobs.title": "Print jobs",
    "jobs.filter": "Filter",
    "jobs.filter.state": "State",
    "jobs.filter.printer": "Printer",
    "jobs.filter.any": "Any",
    "jobs.filter.submit": "Show",
    "jobs.none": "No print jobs here.",
    "jobs.col.title": "Title",
    "jobs.col.printer": "Printer",
    "jobs.col.state": "State",
    "jobs.col.created": "Created",
    "jobs.col.type": "Document",
    "jobs.older": "Older jobs",
    "jobs.newest": "Newest jobs",
    "job.title": "Print job",
    "job.id": "Id",
    "job.history": "State history",
    "job.options": "Options",
    "job.no_options": "No options: the printer's defaults.",
    "job.preview": "First page",
    "job.no_preview": "No preview for this document.",
    "job.thumbnail_alt": "The first page of the document",
    "job.qty": "Quantity",
    "job.at": "When",
    "job.message": "Message",
    "job.back": "All print jobs",
    "keys.title": "API keys",
    "keys.intro": "Your application authenticates with an API key: HTTP Basic, "
    "the key as the user name and an empty password.",
    "keys.create": "Create a key",
    "keys.description": "Description",
    "keys.permission": "Permission",
    "keys.created": "Your new key. Copy it now: it will not be shown again.",
    "keys.new_key": "New API key",
    "keys.copy": "Copy",
    "keys.copied": "Copied",
    "keys.prefix": "Key",
    "keys.created_at": "Created",
    "keys.status": "Status",
    "keys.active": "Active",
    "keys.revoked": "Revoked",
    "keys.revoke": "Revoke",
    "keys.revoke_label": "Revoke the key {prefix}",
    "keys.revoked_done": "The key was revoked. Programs using it are refused from now on.",
    "keys.none": "No API keys yet.",
    "keys.last_used": "Last used",
    "keys.never_used": "Never",
    "keys.last_used_hint": "A key's last use is recorded to within 5 minutes.",
    "perm.full": "Full",
    "perm.print_only": "Print only",
    "perm.read_only": "Read only",
    "webhooks.title": "Webhooks",
    "webhooks.intro": "PrintCloud POSTs every event to your URL, signed, "
    "and retries until your server accepts it.",
    "webhooks.create": "Add a webhook",
    "webhooks.url": "URL",
    "webhooks.events": "Events",
    "webhooks.secret": "Signing secret",
    "webhooks.secret_generated": "The signing secret. Copy it now: it will not be shown again.",
    "webhooks.status": "Status",
    "webhooks.active": "Active",
    "webhooks.disabled": "Disabled",
    "webhooks.enable": "Enable again",
    "webhooks.enabled": "The webhook is active again.",
    "webhooks.delete": "Delete the webhook",
    "webhooks.deleted": "The webhook was deleted.",
    "webhooks.deliveries": "Recent deliveries",
    "webhooks.none": "No webhooks yet.",
    "webhooks.no_deliveries": "Nothing delivered yet.",
    "webhooks.view": "Deliveries",
    "webhooks.replay": "Send again",
    "webhooks.replayed": "The event will be sent again.",
    "webhooks.failed_create": "The webhook could not be added:",
    "webhooks.pick_event": "Choose at least one event.",
    "webhooks.col.at": "Created",
    "webhooks.back": "All webhooks",
    "webhooks.send_test": "Send a test event",
    "webhooks.send_test_hint": "A webhook.test event, to this webhook only, sent and "
    "retried as any other.",
    "webhooks.test_sent": "A test event was queued: it is below, and is sent in a moment.",
    "delivery.pending": "Pending",
    "delivery.succeeded": "Succeeded",
    "delivery.given_up": "Failed — given up after {attempts} attempts",
    "delivery.retrying": "Failed — retrying (attempt {attempt} of {max}), next attempt at {at}",
    "delivery.on_hold": "Failed — on hold while the webhook is disabled "
    "(attempt {attempt} of {max})",
    "delivery.message_id": "Message id (webhook-id)",
    "delivery.next_attempt": "Next attempt",
    "delivery.attempts": "Attempts",
    "delivery.not_tried": "Not sent yet: it goes out in a moment.",
    "delivery.col.at": "When",
    "delivery.col.answer": "Answer",
    "delivery.col.duration": "Duration",
    "delivery.col.detail": "Details",
    "delivery.duration": "{ms} ms",
    "delivery.payload": "Payload (the JSON body sent)",
    "delivery.older": "Older deliveries",
    "delivery.newest": "Newest deliveries",
    "answer.http": "HTTP {code}",
    "answer.timed_out": "Timed out after {seconds} s",
    "answer.connection_refused": "Connection refused",
    "answer.host_not_found": "Host name not found",
    "answer.connection_failed": "Connection failed",
    "answer.unsafe_target": "Refused: not a public address",
    "answer.other": "Could not be sent",
    "event.webhook.test": "Test event",
    "event.all": "All events",
    "event.job.created": "Job created",
    "event.job.state": "Job state changed",
    "event.computer.connected": "Computer connected",
    "event.computer.disconnected": "Computer disconnected",
    "event.printer.state": "Printer state changed",
    "connect.title": "Connect a computer",
    "connect.intro": "Install the PrintCloud agent on the computer next to the printers. "
    "It connects out to this server, so there is no port to open.",
    "connect.unix_step": "Open a terminal and run this: it asks for your computer password "
    "(sudo), then for your PrintCloud password.",
    "connect.windows_step": "Open PowerShell as an administrator and run this: it asks for "
    "your PrintCloud e-mail address and password.",
    "connect.unattended_title": "Without questions, for many computers",
    "connect.unattended": "Give a full API key (KEY below) instead of a password. "
    "Make one on the page",
    "connect.what": "The installer needs Python 3.11 or newer (python.org). It makes a "
    "private Python environment for the agent, installs the agent from this server, logs "
    "the computer in and starts the agent with the computer, as a service.",
    "connect.more": "Everything the installer offers (where it installs, without the "
    "service, how to remove it) is listed at",
    "connect.after": "The computer and its printers then appear on the overview.",
    "error.title": "Something went wrong",
    "error.not_found": "Not found: it does not exist, or it is not in your account.",
    "error.csrf": "The form expired or did not come from this site. Reload the page and try again.",
    "error.login": "Your session ended. Log in again.",
    "error.generic": "The request could not be completed.",
    "error.back": "Back to the overview",
    "common.none": "—",
    "common.utc": "Times are in UTC; your computer's own time is shown beside them.",
    "common.yes": "Yes",
    "common.no": "No",
    "content_type.pdf_uri": "PDF from a URL",
    "content_type.pdf_base64": "PDF (sent with the job)",
    "content_type.raw_uri": "Raw printer data from a URL",
    "content_type.raw_base64": "Raw printer data (sent with the job)",
    "option.copies": "Copies",
    "option.color": "Color",
    "option.duplex": "Two-sided",
    "option.paper": "Paper",
    "option.media": "Media",
    "option.pages": "Pages",
    "option.fit_to_page": "Fit to page",
    "option.one-sided": "One-sided",
    "option.long-edge": "Long edge",
    "option.short-edge": "Short edge",
    "history.created": "Job created",
    "history.sent": "Sent to {computer}",
    "history.printing": "Printing on {printer}",
    "history.printed": "Printed on {printer}",
    "history.failed": "Printing failed on {printer}",
    "history.written": "Written to {path}",
    "history.expired": "Not delivered before its expiry",
    "history.computer_removed": "The computer was removed from the account",
    "history.disconnected": (
        "The computer disconnected before reporting how this job ended; it may have printed"
    ),
    "history.download_failed": "The server could not get the document: {reason}",
    "common.copy_failed": "Select the text and copy it.",
}

HE: dict[str, str] = {
    "app.name": "PrintCloud",
    "nav.main": "תפריט ראשי",
    "nav.skip": "דילוג לתוכן",
    "nav.overview": "סקירה",
    "nav.jobs": "עבודות הדפסה",
    "nav.keys": "מפתחות API",
    "nav.webhooks": "וובהוקים",
    "nav.connect": "חיבור מחשב",
    "nav.password": "שינוי סיסמה",
    "nav.logout": "התנתקות",
    "nav.signed_in_as": "מחובר/ת בתור {email}",
    "lang.label": "שפה",
    "lang.other_name": "English",
    "lang.other_code": "en",
    "login.title": "התחברות",
    "login.email": "דוא״ל",
    "login.password": "סיסמה",
    "login.submit": "התחברות",
    "login.no_account": "אין לך חשבון עדיין?",
    "login.signup_link": "יצירת חשבון",
    "login.failed": "הדוא״ל או הסיסמה שגויים.",
    "login.throttled": "יותר מדי ניסיונות כושלים. נסו שוב מאוחר יותר.",
    "signup.title": "יצירת חשבון",
    "signup.first_name": "שם פרטי",
    "signup.last_name": "שם משפחה",
    "signup.password_hint": "לפחות 8 תווים, וסיסמה שקשה לנחש.",
    "signup.submit": "יצירת החשבון",
    "signup.have_account": "כבר יש לך חשבון?",
    "signup.disabled": "ההרשמה כבויה בשרת זה. בקשו חשבון ממנהל השרת.",
    "signup.failed": "לא ניתן היה ליצור את החשבון:",
    "signup.throttled": "יותר מדי הרשמות מהכתובת שלך. נסו שוב מאוחר יותר.",
    "password.title": "שינוי סיסמה",
    "password.current": "הסיסמה הנוכחית",
    "password.new": "סיסמה חדשה",
    "password.submit": "שינוי הסיסמה",
    "password.changed": "הסיסמה שונתה, וכל שאר החיבורים שלך נותקו.",
    "password.wrong": "הסיסמה הנוכחית שגויה.",
    "password.weak": "הסיסמה החדשה אינה מתאימה:",
    "overview.title": "סקירה",
    "overview.computers": "מחשבים ומדפסות",
    "overview.no_computers": "עדיין לא חובר אף מחשב.",
    "overview.connect_first": "חברו את המחשב הראשון",
    "overview.jobs_day": "עבודות הדפסה ב־24 השעות האחרונות",
    "overview.total": "סך הכול",
    "overview.recent": "העבודות האחרונות",
    "computer.os": "מערכת",
    "computer.version": "גרסת הסוכן",
    "computer.last_seen": "נראה לאחרונה",
    "computer.printers": "מדפסות",
    "computer.no_printers": "המחשב הזה לא דיווח על מדפסות.",
    "printer.default": "ברירת מחדל",
    "printer.test_page": "הדפסת דף ניסיון",
    "printer.test_page_on": "הדפסת דף ניסיון במדפסת {printer}",
    "printer.test_sent": "דף ניסיון נשלח אל {printer}.",
    "printer.test_title": "דף ניסיון של PrintCloud",
    "printer.about": "על המדפסת",
    "printer.computer": "מחשב",
    "printer.is_default": "מדפסת ברירת המחדל של המחשב",
    "printer.recent": "העבודות האחרונות במדפסת הזו",
    "printer.all_jobs": "כל העבודות של המדפסת הזו",
    "cap.color": "צבע",
    "cap.color_yes": "מדפיסה בצבע",
    "cap.color_no": "שחור־לבן בלבד",
    "cap.duplex": "דו־צדדית",
    "cap.duplex_yes": "מדפיסה משני צדי הדף",
    "cap.duplex_no": "צד אחד בלבד",
    "cap.media": "גודלי נייר",
    "cap.bins": "מגשים",
    "cap.not_reported": "לא דווח",
    "cap.raw": "נתונים גולמיים",
    "cap.raw_yes": "מקבלת נתוני מדפסת כמו שהם (מדבקות, קבלות: ZPL, EPL, ESC/POS)",
    "ipp.title": "הדפסה מכל מחשב (IPP)",
    "ipp.intro": "המדפסת הזו היא גם מדפסת IPP Everywhere באינטרנט: הוסיפו אותה למחשב "
    "לפי הכתובת שלה, והדפיסו אליה מחלון ההדפסה של כל תוכנה. העבודות עוברות דרך PrintCloud "
    "אל הסוכן, ומופיעות כאן, כמו כל עבודה אחרת.",
    "ipp.with_key": "עם מפתח API",
    "ipp.address": "כתובת המדפסת (IPP)",
    "ipp.web_address": "אותה כתובת, ל־Windows",
    "ipp.copy_label": "העתקה: {what}",
    "ipp.key_auth": "כשהמערכת מבקשת שם משתמש וסיסמה, הזינו כשם המשתמש מפתח API שמורשה "
    "להדפיס (הדפסה בלבד או מלאה), וסיסמה כלשהי. צרו אחד בדף",
    "ipp.share_title": "קישור שיתוף",
    "ipp.share_intro": "או תנו למדפסת כתובת משלה שאינה דורשת מפתח: כל מי שמחזיק בה יכול "
    "להדפיס למדפסת הזו, ורק אליה. החליפו או בטלו אותה כשהיא הגיעה רחוק מדי.",
    "ipp.share_created": "קישור השיתוף של המדפסת. העתיקו אותו עכשיו: הוא לא יוצג שוב. "
    "קישור שהוחלף כבר לא מדפיס.",
    "ipp.share_address": "קישור שיתוף (IPP)",
    "ipp.share_web_address": "קישור שיתוף ל־Windows",
    "ipp.share_command": "הוספה ל־CUPS (לינוקס, macOS), בלי בקשת סיסמה:",
    "ipp.share_live": "למדפסת הזו יש קישור שיתוף.",
    "ipp.share_begins": "הוא מתחיל ב־",
    "ipp.share_none": "למדפסת הזו אין קישור שיתוף.",
    "ipp.share_create": "יצירת קישור שיתוף",
    "ipp.share_replace": "החלפת קישור השיתוף",
    "ipp.share_revoke": "ביטול קישור השיתוף",
    "ipp.share_revoked": "קישור השיתוף בוטל: הוא כבר לא מדפיס.",
    "ipp.how_title": "הוספת המדפסת",
    "ipp.how_intro": "הכתובות שלהלן מקבלות מפתח API כשם המשתמש; קישור שיתוף בא במקומן "
    "ואינו צריך שם משתמש כלל.",
    "ipp.field_address": "כתובת",
    "ipp.field_protocol": "פרוטוקול",
    "ipp.field_queue": "תור",
    "ipp.field_use": "שימוש",
    "ipp.field_ip": "כתובת IP",
    "ipp.field_port": "פורט",
    "ipp.field_path": "נתיב המשאב",
    "ipp.macos_gui": "הגדרות המערכת ← מדפסות וסורקים ← הוספת מדפסת, סורק או פקס ← הלשונית IP:",
    "ipp.macos_gui_after": "בחרו AirPrint תחת „שימוש” כשהמק מציע אותו. המק מבקש שם משתמש "
    "וסיסמה בהדפסה הראשונה, ויכול לשמור אותם במחזיק המפתחות. הלשונית IP מדברת IPP לא "
    "מוצפן: כשהשרת הזה ב־https, השתמשו במסוף במקומה.",
    "ipp.macos_terminal": "או במסוף (Terminal):",
    "ipp.windows": "הגדרות ← מדפסות וסורקים ← הוספת התקן ← „המדפסת הרצויה אינה מופיעה "
    "ברשימה” ← „בחר מדפסת משותפת לפי שם”, עם הכתובת הזו (לא „הוסף מדפסת באמצעות כתובת IP "
    "או שם מארח”, שאינה מקבלת נתיב):",
    "ipp.windows_after": "Windows מבקש שם משתמש וסיסמה, ואחר כך מנהל התקן: בחרו את זה של "
    "המדפסת, או מנהל התקן כללי.",
    "ipp.linux_terminal": "במסוף, כמנהל מערכת (CUPS; בלי מנהל התקן):",
    "ipp.linux_desktop": "או בהגדרות שולחן העבודה: בהגדרות GNOME ← מדפסות ← הוספת מדפסת, "
    "והקלידו את כתובת המדפסת (IPP) שלמעלה; בהגדרות המערכת של KDE ← מדפסות ← הוספת מדפסת "
    "← כתובת URI ידנית, עם אותה כתובת. המערכת מבקשת את שם המשתמש בהדפסה הראשונה.",
    "ipp.ios": "אייפון ואייפד מוצאים מדפסות ברשת שלהם בלבד: בהגדרות אין דרך להוסיף מדפסת "
    "לפי כתובת. פרופיל תצורה (Apple Configurator, או שירות לניהול מכשירים) יכול, עם רכיב "
    "AirPrint:",
    "ipp.ios_after": "הטלפון מבקש את שם המשתמש בהדפסה הראשונה.",
    "ipp.android": "באנדרואיד אי אפשר להוסיף את המדפסת הזו: שירות ההדפסה המובנה ושירות "
    "ההדפסה של Mopria מוסיפים מדפסות שנמצאו ברשת המקומית, או לפי כתובת IP עם הנתיב הרגיל "
    "שלהם, אף פעם לא לפי כתובת מלאה כמו זו שלמעלה. מאנדרואיד, הדפיסו דרך אפליקציה "
    "שמשתמשת ב־API של PrintCloud.",
    "ipp.formats": "המסמכים מגיעים כ־PDF, הפורמט שכל מערכת IPP Everywhere יודעת לשלוח; "
    "המדפסת אומרת לכל מערכת מה היא מקבלת.",
    "state.label": "מצב",
    "state.pending": "ממתינה",
    "state.sent": "נשלחה",
    "state.printing": "בהדפסה",
    "state.completed": "הושלמה",
    "state.error": "שגיאה",
    "state.expired": "פג תוקפה",
    "state.online": "מחובר",
    "state.offline": "לא מחובר",
    "jobs.title": "עבודות הדפסה",
    "jobs.filter": "סינון",
    "jobs.filter.state": "מצב",
    "jobs.filter.printer": "מדפסת",
    "jobs.filter.any": "הכול",
    "jobs.filter.submit": "הצגה",
    "jobs.none": "אין כאן עבודות הדפסה.",
    "jobs.col.title": "כותרת",
    "jobs.col.printer": "מדפסת",
    "jobs.col.state": "מצב",
    "jobs.col.created": "נוצרה",
    "jobs.col.type": "מסמך",
    "jobs.older": "עבודות ישנות יותר",
    "jobs.newest": "העבודות החדשות ביותר",
    "job.title": "עבודת הדפסה",
    "job.id": "מזהה",
    "job.history": "היסטוריית מצבים",
    "job.options": "אפשרויות",
    "job.no_options": "ללא אפשרויות: ברירות המחדל של המדפסת.",
    "job.preview": "עמוד ראשון",
    "job.no_preview": "אין תצוגה מקדימה למסמך זה.",
    "job.thumbnail_alt": "העמוד הראשון של המסמך",
    "job.qty": "כמות",
    "job.at": "מתי",
    "job.message": "הודעה",
    "job.back": "כל עבודות ההדפסה",
    "keys.title": "מפתחות API",
    "keys.intro": "האפליקציה שלכם מזדהה באמצעות מפתח API: \u200fHTTP Basic, "
    "המפתח בתור שם המשתמש וסיסמה ריקה.",
    "keys.create": "יצירת מפתח",
    "keys.description": "תיאור",
    "keys.permission": "הרשאה",
    "keys.created": "המפתח החדש שלכם. העתיקו אותו עכשיו: הוא לא יוצג שוב.",
    "keys.new_key": "מפתח API חדש",
    "keys.copy": "העתקה",
    "keys.copied": "הועתק",
    "keys.prefix": "מפתח",
    "keys.created_at": "נוצר",
    "keys.status": "סטטוס",
    "keys.active": "פעיל",
    "keys.revoked": "בוטל",
    "keys.revoke": "ביטול",
    "keys.revoke_label": "ביטול המפתח {prefix}",
    "keys.revoked_done": "המפתח בוטל. תוכנות שמשתמשות בו יידחו מעתה.",
    "keys.none": "עדיין אין מפתחות API.",
    "keys.last_used": "שימוש אחרון",
    "keys.never_used": "אף פעם",
    "keys.last_used_hint": "השימוש האחרון במפתח נרשם בדיוק של עד 5 דקות.",
    "perm.full": "מלאה",
    "perm.print_only": "הדפסה בלבד",
    "perm.read_only": "קריאה בלבד",
    "webhooks.title": "וובהוקים",
    "webhooks.intro": "\u200fPrintCloud שולח כל אירוע בבקשת POST לכתובת שלכם, חתום, "
    "ומנסה שוב עד שהשרת שלכם מקבל אותו.",
    "webhooks.create": "הוספת וובהוק",
    "webhooks.url": "כתובת URL",
    "webhooks.events": "אירועים",
    "webhooks.secret": "סוד החתימה",
    "webhooks.secret_generated": "סוד החתימה. העתיקו אותו עכשיו: הוא לא יוצג שוב.",
    "webhooks.status": "סטטוס",
    "webhooks.active": "פעיל",
    "webhooks.disabled": "מושבת",
    "webhooks.enable": "הפעלה מחדש",
    "webhooks.enabled": "הוובהוק פעיל שוב.",
    "webhooks.delete": "מחיקת הוובהוק",
    "webhooks.deleted": "הוובהוק נמחק.",
    "webhooks.deliveries": "משלוחים אחרונים",
    "webhooks.none": "עדיין אין וובהוקים.",
    "webhooks.no_deliveries": "עדיין לא נשלח דבר.",
    "webhooks.view": "משלוחים",
    "webhooks.replay": "שליחה חוזרת",
    "webhooks.replayed": "האירוע יישלח שוב.",
    "webhooks.failed_create": "לא ניתן היה להוסיף את הוובהוק:",
    "webhooks.pick_event": "בחרו לפחות אירוע אחד.",
    "webhooks.col.at": "נוצר",
    "webhooks.back": "כל הוובהוקים",
    "webhooks.send_test": "שליחת אירוע ניסיון",
    "webhooks.send_test_hint": "אירוע webhook.test, לוובהוק הזה בלבד, שנשלח ומנוסה שוב "
    "כמו כל אירוע אחר.",
    "webhooks.test_sent": "אירוע ניסיון נוסף לתור: הוא מופיע למטה ויישלח בעוד רגע.",
    "delivery.pending": "ממתין",
    "delivery.succeeded": "נמסר בהצלחה",
    "delivery.given_up": "נכשל — הניסיונות הופסקו אחרי {attempts} ניסיונות",
    "delivery.retrying": "נכשל — ינוסה שוב (ניסיון {attempt} מתוך {max}), הניסיון הבא ב־{at}",
    "delivery.on_hold": "נכשל — מושהה כל עוד הוובהוק מושבת (ניסיון {attempt} מתוך {max})",
    "delivery.message_id": "מזהה ההודעה (webhook-id)",
    "delivery.next_attempt": "הניסיון הבא",
    "delivery.attempts": "ניסיונות",
    "delivery.not_tried": "עדיין לא נשלח: הוא יישלח בעוד רגע.",
    "delivery.col.at": "מתי",
    "delivery.col.answer": "תשובה",
    "delivery.col.duration": "משך",
    "delivery.col.detail": "פרטים",
    "delivery.duration": "{ms} אלפיות שנייה",
    "delivery.payload": "המטען (גוף ה־JSON שנשלח)",
    "delivery.older": "משלוחים ישנים יותר",
    "delivery.newest": "המשלוחים החדשים ביותר",
    "answer.http": "תשובת HTTP {code}",
    "answer.timed_out": "אין תשובה אחרי {seconds} שניות",
    "answer.connection_refused": "החיבור נדחה",
    "answer.host_not_found": "שם השרת לא נמצא",
    "answer.connection_failed": "החיבור נכשל",
    "answer.unsafe_target": "נדחה: הכתובת אינה ציבורית",
    "answer.other": "לא ניתן היה לשלוח",
    "event.webhook.test": "אירוע ניסיון",
    "event.all": "כל האירועים",
    "event.job.created": "עבודה נוצרה",
    "event.job.state": "מצב עבודה השתנה",
    "event.computer.connected": "מחשב התחבר",
    "event.computer.disconnected": "מחשב התנתק",
    "event.printer.state": "מצב מדפסת השתנה",
    "connect.title": "חיבור מחשב",
    "connect.intro": "התקינו את סוכן PrintCloud במחשב שליד המדפסות. "
    "הוא מתחבר החוצה אל השרת הזה, כך שאין צורך לפתוח פורט.",
    "connect.unix_step": "פתחו מסוף (Terminal) והריצו את הפקודה: היא תבקש את סיסמת המחשב "
    "(sudo), ואחר כך את סיסמת PrintCloud שלכם.",
    "connect.windows_step": "פתחו PowerShell כמנהל מערכת והריצו את הפקודה: היא תבקש את "
    "כתובת הדוא״ל ואת הסיסמה שלכם ב־PrintCloud.",
    "connect.unattended_title": "בלי שאלות, להתקנה בהרבה מחשבים",
    "connect.unattended": "העבירו מפתח API מלא (KEY בפקודה) במקום סיסמה. צרו אחד בדף",
    "connect.what": "תוכנית ההתקנה דורשת Python 3.11 ומעלה (python.org). היא יוצרת סביבת "
    "Python פרטית לסוכן, מתקינה את הסוכן מהשרת הזה, מחברת את המחשב לחשבון ומפעילה את "
    "הסוכן יחד עם המחשב, כשירות.",
    "connect.more": "כל האפשרויות של תוכנית ההתקנה (מיקום ההתקנה, התקנה בלי שירות, הסרה) "
    "מפורטות בכתובת",
    "connect.after": "לאחר מכן המחשב והמדפסות שלו יופיעו בדף הסקירה.",
    "error.title": "משהו השתבש",
    "error.not_found": "לא נמצא: הפריט אינו קיים, או שאינו שייך לחשבון שלכם.",
    "error.csrf": "תוקף הטופס פג או שהוא לא נשלח מאתר זה. טענו את הדף מחדש ונסו שוב.",
    "error.login": "החיבור שלך הסתיים. התחברו מחדש.",
    "error.generic": "לא ניתן היה להשלים את הבקשה.",
    "error.back": "חזרה לסקירה",
    "common.none": "—",
    "common.utc": "השעות לפי UTC; לצדן השעה במחשב שלך.",
    "common.yes": "כן",
    "common.no": "לא",
    "content_type.pdf_uri": "PDF מכתובת URL",
    "content_type.pdf_base64": "PDF (נשלח עם העבודה)",
    "content_type.raw_uri": "נתוני מדפסת גולמיים מכתובת URL",
    "content_type.raw_base64": "נתוני מדפסת גולמיים (נשלחו עם העבודה)",
    "option.copies": "עותקים",
    "option.color": "צבע",
    "option.duplex": "הדפסה דו־צדדית",
    "option.paper": "נייר",
    "option.media": "מדיה",
    "option.pages": "עמודים",
    "option.fit_to_page": "התאמה לעמוד",
    "option.one-sided": "חד־צדדית",
    "option.long-edge": "לאורך הצד הארוך",
    "option.short-edge": "לאורך הצד הקצר",
    "history.created": "העבודה נוצרה",
    "history.sent": "נשלחה אל {computer}",
    "history.printing": "מודפסת ב־{printer}",
    "history.printed": "הודפסה ב־{printer}",
    "history.failed": "ההדפסה נכשלה ב־{printer}",
    "history.written": "נכתבה אל {path}",
    "history.expired": "לא נמסרה לפני שפג תוקפה",
    "history.computer_removed": "המחשב הוסר מהחשבון",
    "history.disconnected": "המחשב התנתק לפני שדיווח איך הסתיימה העבודה; ייתכן שהיא הודפסה",
    "history.download_failed": "השרת לא הצליח להשיג את המסמך: {reason}",
    "common.copy_failed": "סמנו את הטקסט והעתיקו אותו.",
}

CATALOGS: dict[str, dict[str, str]] = {"en": EN, "he": HE}


def _from_accept_language(header: str) -> str | None:
    """The best of our languages in ``Accept-Language`` (``he-IL,he;q=0.9,en;q=0.8``)."""
    best: tuple[float, str] | None = None
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        base = tag.strip().lower().split("-")[0]
        if base == "iw":  # the old code for Hebrew, still sent by some systems
            base = "he"
        if base not in LANGUAGES:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, base)
    return best[1] if best else None


def language(request: Request) -> str:
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return _from_accept_language(request.headers.get("accept-language", "")) or DEFAULT


def direction(lang: str) -> str:
    return "rtl" if lang in _RTL else "ltr"


def translator(lang: str) -> Translator:
    catalog = CATALOGS[lang]

    def translate(key: str, **values: object) -> str:
        text = catalog[key]  # a missing key is a bug that the catalog test catches
        return text.format(**values) if values else text

    return translate
