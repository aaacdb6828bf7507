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
    "webhooks.col.event": "Event",
    "webhooks.col.status": "Status",
    "webhooks.col.code": "Response",
    "webhooks.col.attempts": "Attempts",
    "webhooks.col.at": "Created",
    "webhooks.back": "All webhooks",
    "delivery.pending": "Pending",
    "delivery.succeeded": "Delivered",
    "delivery.failed": "Failed",
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
    "common.utc": "Times are in UTC.",
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
    "webhooks.col.event": "אירוע",
    "webhooks.col.status": "סטטוס",
    "webhooks.col.code": "תגובה",
    "webhooks.col.attempts": "ניסיונות",
    "webhooks.col.at": "נוצר",
    "webhooks.back": "כל הוובהוקים",
    "delivery.pending": "ממתין",
    "delivery.succeeded": "נמסר",
    "delivery.failed": "נכשל",
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
    "common.utc": "השעות לפי UTC.",
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
