"""Build the binary documents of the sample knowledge base and check questions.yaml.

The sample knowledge base in ``sample_docs/`` belongs to a fictional company,
Halvorsen Instruments AS (Trondheim, Norway: about 400 people who make
spectrophotometers, microplate readers and the Orion lab software). The text
documents (.md, .txt, .html, .eml, .csv) are written by hand; this script
produces the binary ones:

    employee-handbook.pdf          8 pages, one section per page
    security-incident-runbook.pdf  4 pages, one section per page
    remote-work-policy.docx        headings, paragraphs and one table
    sales-kickoff-2026.pptx        8 slides
    office-directory.xlsx          sheets "Offices" and "Meeting rooms"

Output is deterministic: fixed metadata dates, and the Office files (zip
containers) are rewritten with fixed member timestamps, so re-running gives
byte-identical files.

Usage, from the repository root:

    .venv/bin/python tools/make_sample_docs.py          # build, then check
    .venv/bin/python tools/make_sample_docs.py --check  # check only

The check verifies every entry of sample_docs/questions.yaml: the answer must
occur (case-insensitive, whitespace-normalised) in the named file, on the named
page or slide for PDF/PPTX, on no other page of that file and in no other
document.
"""

from __future__ import annotations

import argparse
import csv
import email
import email.policy
import html
import io
import re
import sys
import zipfile
from collections import Counter, defaultdict
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "sample_docs"
QUESTIONS = DOCS / "questions.yaml"

COMPANY = "Halvorsen Instruments AS"
FIXED_DT = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)
ZIP_DATE = (2026, 1, 5, 9, 0, 0)

PAGED = {".pdf", ".pptx"}

# --------------------------------------------------------------------------------------
# Content: employee handbook (PDF). One list entry per page; each page starts with its
# section heading. Blocks: ("h2", text), ("p", text), ("ul", [items]).
# Core PDF fonts only: keep every string latin-1.
# --------------------------------------------------------------------------------------

HANDBOOK_TITLE = "Employee Handbook 2026"

HANDBOOK: list[tuple[str, list[tuple[str, object]]]] = [
    (
        "1. Welcome to Halvorsen Instruments",
        [
            (
                "p",
                "Halvorsen Instruments was founded in 1987 by Ingrid Halvorsen, a physicist who "
                "built her first spectrophotometer in a rented basement in Trondheim because the "
                "instruments she could buy were too slow for her research. Today around 400 "
                "colleagues in six offices design, build, sell and service Vega "
                "spectrophotometers, Lyra microplate readers and the Orion software that runs "
                "them. Our customers are pharmaceutical quality-control labs, universities, and "
                "food and environmental laboratories in more than 60 countries.",
            ),
            ("h2", "What we stand for"),
            (
                "p",
                "Our three values are Precise, Curious and Reliable. Precise: we measure twice "
                "and say what we know, not what we hope. Curious: we ask why, listen to "
                "customers and share what we learn. Reliable: we do what we promised, and when "
                "we cannot, we say so early.",
            ),
            ("h2", "About this handbook"),
            (
                "p",
                "This handbook explains how we work together and what you can expect from the "
                "company. It applies to everyone employed by Halvorsen Instruments AS and its "
                "subsidiaries. Where your employment contract, a local collective agreement or "
                "local law says something different, that document takes precedence. This is "
                "version 2026.1, effective from 1 January 2026.",
            ),
            (
                "p",
                "The handbook is owned by the People & Culture team. All forms and requests "
                "mentioned here are found in Compass, our HR portal. If something is unclear, "
                "ask your manager first, or write to hr@halvorsen-instruments.com.",
            ),
            ("h2", "Your first months"),
            (
                "p",
                "Every new employee starts with a probation period of six months. During this "
                "time your manager holds a check-in with you after one, three and five months, "
                "so that both of you know how things are going well before the period ends.",
            ),
        ],
    ),
    (
        "2. Working hours",
        [
            (
                "p",
                "The standard working week is 37.5 hours, Monday to Friday, including a paid "
                "lunch break of 30 minutes per day. Part-time arrangements are agreed in your "
                "contract.",
            ),
            ("h2", "Flexitime and core hours"),
            (
                "p",
                "Most office roles work flexitime. You choose when to start and finish, but you "
                "must be available to colleagues during core hours, which run from 09:30 to "
                "14:30. Meetings with more than two people should not be scheduled outside core "
                "hours without good reason.",
            ),
            (
                "p",
                "Hours worked above or below the standard week build up a flexitime balance. "
                "You may carry a balance of up to 40 hours in either direction from one month "
                "to the next. Anything above the limit is lost at the end of the month unless "
                "your manager has agreed in writing that it can be kept.",
            ),
            ("h2", "Recording time"),
            (
                "p",
                "Record your hours in Compass every week. Timesheets for the previous week must "
                "be submitted by Monday at 12:00, because project hours are invoiced to "
                "customers and used for research grant reporting.",
            ),
            ("h2", "Overtime"),
            (
                "p",
                "Overtime is work beyond the standard week that your manager has asked for or "
                "approved in advance. It is paid with a supplement of at least 40 percent, or "
                "taken as time off hour for hour if you prefer. Flexitime is not overtime.",
            ),
            ("h2", "Shift work in production"),
            (
                "p",
                "Production and warehouse staff in Trondheim work in two shifts: the early "
                "shift from 06:00 to 14:00 and the late shift from 14:00 to 22:00. Shift plans "
                "are published four weeks ahead, and swaps must be approved by the shift lead.",
            ),
        ],
    ),
    (
        "3. Holidays and leave",
        [
            ("h2", "Annual leave"),
            (
                "p",
                "Everyone is entitled to 25 working days of annual leave per calendar year. "
                "Colleagues who turn 60 during the year get one extra week. You have the right "
                "to take three consecutive weeks of main holiday between 1 June and 30 "
                "September. Request leave in Compass; for periods longer than one week, ask at "
                "least four weeks in advance.",
            ),
            (
                "p",
                "With your manager's approval you may carry over up to 12 days of unused leave "
                "to the following year. Days that are not carried over and not taken are lost "
                "at the end of the year.",
            ),
            ("h2", "Sickness"),
            (
                "p",
                "If you are ill, tell your manager before 09:00 on the first day. You can "
                "self-certify sickness for up to 8 calendar days at a time, at most four times "
                "in a 12-month period. For longer absences a doctor's certificate is needed. "
                "Parents may also take time off when a child under 12 is ill; the number of "
                "days follows local law.",
            ),
            ("h2", "Parental leave"),
            (
                "p",
                "Parental leave follows the national scheme of the country you work in. In "
                "Norway the company tops up parental benefit to your full salary, also above "
                "the state cap. Tell People & Culture at least three months before the leave "
                "starts.",
            ),
            ("h2", "Other paid leave"),
            (
                "p",
                "You get two paid days per year for volunteering with a registered charity or "
                "community organisation, one paid day when you move house, and up to three paid "
                "days of compassionate leave when a close family member dies. Register all of "
                "them in Compass.",
            ),
        ],
    ),
    (
        "4. Expenses and travel",
        [
            ("h2", "Booking business travel"),
            (
                "p",
                "Book all business trips through the travel desk (travel@halvorsen-"
                "instruments.com) or the online booking tool TripLink, so that we know where "
                "travellers are if something happens. Take the train when the journey is under "
                "four hours. Flights are booked in economy class. If the scheduled flight time "
                "is more than seven hours, you may book premium economy. Business class needs "
                "the approval of the CEO.",
            ),
            (
                "p",
                "Hotels must stay within the hotel cap for the destination, and daily "
                "allowances follow the per-diem table published by Finance. If breakfast is "
                "included in the room rate, the daily allowance is reduced by 20 percent.",
            ),
            ("h2", "Claiming expenses"),
            (
                "p",
                "Submit expense claims in Compass Expenses within 45 days of the date of the "
                "expense. Claims that arrive later are paid only with the written approval of "
                "the CFO. Photograph every receipt above NOK 200 and attach it to the claim; "
                "you do not need to keep the paper copy.",
            ),
            ("h2", "Corporate card"),
            (
                "p",
                "Employees who travel more than four times a year receive a Halvorsen corporate "
                "Visa card. Use it for travel and customer entertainment only; private purchases "
                "are not allowed, even if you pay them back.",
            ),
            ("h2", "Driving and taxis"),
            (
                "p",
                "If you use your own car for business and it is cheaper than the alternatives, "
                "you are reimbursed at NOK 3.50 per km. Taxis are fine after 22:00, when you "
                "carry demo equipment, or when there is no reasonable public transport.",
            ),
        ],
    ),
    (
        "5. IT and information security",
        [
            (
                "p",
                "We build instruments that customers trust with regulated data, so our own "
                "security has to be good. These rules apply to every company device and "
                "account.",
            ),
            ("h2", "Passwords and sign-in"),
            (
                "p",
                "Passwords must be at least 14 characters long. Use a passphrase of several "
                "words that you do not use anywhere else. Multi-factor authentication with the "
                "Microsoft Authenticator app is required for all accounts. Lock your screen "
                "whenever you leave your desk; laptops lock automatically after five minutes.",
            ),
            ("h2", "Classifying information"),
            (
                "p",
                "Information is Public, Internal, Confidential or Strictly Confidential. "
                "Customer data, prices and unreleased product plans are Confidential. Strictly "
                "Confidential covers salary data, M&A work and security investigations. "
                "Confidential information may only be shared outside the company under an NDA.",
            ),
            ("h2", "Devices and storage"),
            (
                "p",
                "USB storage devices are blocked on company laptops. Store your work in "
                "OneDrive, SharePoint or Teams, never on private cloud services. Reasonable "
                "personal use of your laptop is fine, but not for running a private business.",
            ),
            ("h2", "AI assistants"),
            (
                "p",
                "Use Halvorsen Copilot, our approved AI assistant, for work with company data. "
                "Never paste Confidential or Strictly Confidential information into public AI "
                "tools.",
            ),
            ("h2", "Lost or stolen devices"),
            (
                "p",
                "If your laptop or phone is lost or stolen, report it within one hour to the "
                "Security hotline, +47 73 80 44 99, which is staffed around the clock. The "
                "device can then be wiped remotely before anyone can get at the data.",
            ),
        ],
    ),
    (
        "6. Code of conduct",
        [
            (
                "p",
                "We treat colleagues, customers and suppliers with respect. Harassment, "
                "bullying and discrimination are not tolerated, whoever the person is and "
                "wherever it happens, including at company events.",
            ),
            ("h2", "Gifts and hospitality"),
            (
                "p",
                "You may accept gifts from customers or suppliers worth up to NOK 500 per giver "
                "per year. Anything of higher value must be declined politely, or registered in "
                "the gift register in Compass and approved by your manager. Never accept cash or "
                "vouchers. Business meals are fine when they are reasonable and have a clear "
                "business purpose.",
            ),
            ("h2", "Conflicts of interest"),
            (
                "p",
                "Side jobs, board positions and financial interests in customers, suppliers or "
                "competitors must be declared. Everyone submits the annual conflict-of-interest "
                "declaration in Compass by 31 January, even if there is nothing to declare.",
            ),
            ("h2", "Anti-bribery and export control"),
            (
                "p",
                "We never offer or pay bribes, including small facilitation payments. Some of "
                "our instruments are covered by export control rules, so every order to a new "
                "country or end user is screened by the Trade Compliance team before it ships.",
            ),
            ("h2", "Speaking up"),
            (
                "p",
                "If you see something that is wrong, raise it with your manager, People & "
                "Culture or Legal. You can also report anonymously through SpeakUp, our "
                "whistleblowing channel run by an independent provider, on the web or by phone "
                "on 800 30 512. Nobody who reports a concern in good faith will suffer for it.",
            ),
        ],
    ),
    (
        "7. Pay and benefits",
        [
            ("h2", "Salary"),
            (
                "p",
                "Salaries are paid on the 20th of each month. If the 20th falls on a weekend or "
                "public holiday, payment is made on the working day before. Salaries are "
                "reviewed once a year, with changes taking effect from 1 April.",
            ),
            ("h2", "Bonus"),
            (
                "p",
                "The profit-sharing bonus pays up to one month's salary to every employee when "
                "the company reaches its annual targets. It is paid with the March salary.",
            ),
            ("h2", "Pension and insurance"),
            (
                "p",
                "In Norway the company pays 7 percent of your salary into a defined "
                "contribution pension from the first krone, up to 12 times the national "
                "insurance base amount. All employees are covered by private health insurance "
                "from Nordhelse, which gives fast access to specialists and physiotherapy, and "
                "by a travel insurance that also covers private trips for you and your family.",
            ),
            ("h2", "Wellbeing"),
            (
                "p",
                "You can claim a wellness allowance of NOK 3,000 per year for gym memberships, "
                "sports clubs or equipment. The company also owns a holiday cabin in Oppdal with "
                "room for eight people, which employees can rent for NOK 600 per night. Winter "
                "holiday and Easter weeks are allocated by lottery in October.",
            ),
            ("h2", "Refer a friend"),
            (
                "p",
                "If someone you recommend is hired, you receive a referral bonus of NOK 20,000. "
                "It is paid once the new colleague has completed probation. Managers cannot "
                "receive the bonus for hires into their own team.",
            ),
        ],
    ),
    (
        "8. Leaving Halvorsen",
        [
            ("h2", "Notice periods"),
            (
                "p",
                "During probation the notice period is 14 days for both parties. After "
                "probation it is three months, unless your contract says otherwise. Resign in "
                "writing through Compass; your manager confirms the last working day.",
            ),
            ("h2", "Before your last day"),
            (
                "p",
                "Hand over your work and documentation to your manager or a named colleague. "
                "Return your laptop, phone, badge, keys and corporate card on your last day. "
                "If you work remotely, IT arranges for a courier to collect the equipment. "
                "Holiday pay and any remaining flexitime balance are settled with your final "
                "salary.",
            ),
            ("h2", "Exit interview and references"),
            (
                "p",
                "People & Culture will offer you an exit interview. It is voluntary, but it "
                "helps us improve, and what you say is reported only in anonymised form. On "
                "request you will receive a written reference describing your role and the "
                "period of employment.",
            ),
            ("h2", "Staying in touch"),
            (
                "p",
                "Former colleagues are welcome in Halvorsen Alumni, our group on LinkedIn, "
                "where we share news and open positions. Many people have come back to us, and "
                "we are always happy to talk.",
            ),
            ("h2", "Where to get help"),
            (
                "ul",
                [
                    "People & Culture: hr@halvorsen-instruments.com",
                    "Payroll: payroll@halvorsen-instruments.com",
                    "Travel desk: travel@halvorsen-instruments.com",
                    "Compass HR portal: compass.halvorsen.internal",
                ],
            ),
        ],
    ),
]

# --------------------------------------------------------------------------------------
# Content: security incident runbook (PDF), one section per page.
# --------------------------------------------------------------------------------------

RUNBOOK_TITLE = "Security Incident Runbook"

RUNBOOK: list[tuple[str, list[tuple[str, object]]]] = [
    (
        "1. Purpose and severity levels",
        [
            (
                "p",
                "This runbook tells the IT Security team, the on-duty analyst and everyone "
                "pulled into an incident what to do, in which order, and who decides. It covers "
                "attacks on company IT systems and security problems in Orion software running "
                "at customer sites. The runbook is owned by the CISO, Anders Nygaard, and "
                "reviewed after every SEV1 incident and at least once a year. Document ID "
                "SEC-RB-001, version 3.",
            ),
            ("h2", "Severity levels"),
            (
                "p",
                "The on-duty analyst assigns a severity when the incident is opened and may "
                "raise or lower it as facts become clear. When in doubt, choose the higher "
                "level.",
            ),
            (
                "ul",
                [
                    "SEV1 - Critical: active attack on production, customer-facing systems or "
                    "the factory network, ransomware, or confirmed theft of customer data. "
                    "Response within 15 minutes, day and night.",
                    "SEV2 - High: confirmed compromise limited to a single account or device, "
                    "or a serious vulnerability in a released Orion version. Response within "
                    "one hour, day and night.",
                    "SEV3 - Medium: suspicious activity that has not been confirmed as a "
                    "compromise. Response within four business hours.",
                    "SEV4 - Low: policy violations and reported phishing with no click. "
                    "Handled within two business days.",
                ],
            ),
            ("h2", "Roles"),
            (
                "p",
                "Every SEV1 and SEV2 incident has an Incident Commander (IC) who coordinates "
                "the work and makes decisions, a technical lead who runs the investigation, "
                "and a scribe who keeps the timeline. The IC is never the person doing the "
                "hands-on technical work.",
            ),
        ],
    ),
    (
        "2. First response",
        [
            (
                "p",
                "The first hour decides how bad an incident becomes. Follow these steps in "
                "order and write down the time of each action.",
            ),
            (
                "ul",
                [
                    "Open an incident in the SEC project in Jira and post the link in the "
                    "Slack channel #sec-incident. The incident gets the next free code name "
                    "from the bird list (for example LIRYPE or FJELLVAK) so it can be discussed "
                    "without revealing details.",
                    "For SEV1 and SEV2, start the standing Teams bridge INC-BRIDGE and page the "
                    "Incident Commander on duty.",
                    "Contain affected machines by isolating them from the network in the EDR "
                    "console. Do not power off a compromised machine: memory contents are lost "
                    "when it is switched off.",
                    "Capture memory and disk images of the affected machines before anyone "
                    "changes them, and store the images in the evidence vault.",
                    "Disable compromised accounts and revoke their sessions and tokens. Reset "
                    "passwords only after the attacker's access path is understood.",
                    "Block malicious domains, IP addresses and file hashes on the firewall and "
                    "in the EDR console.",
                ],
            ),
            ("h2", "Factory and lab networks"),
            (
                "p",
                "Never isolate machines on the Trondheim production network without first "
                "talking to the production manager on shift: a sudden stop can damage "
                "instruments in calibration. Agree a controlled stop instead.",
            ),
        ],
    ),
    (
        "3. Escalation and communication",
        [
            ("h2", "Internal escalation"),
            (
                "p",
                "For a SEV1 incident the CISO informs the CEO within one hour of the incident "
                "being declared. The IC posts a status update on the bridge every 30 minutes "
                "while the incident is active, even if nothing has changed.",
            ),
            ("h2", "Personal data breaches"),
            (
                "p",
                "If personal data may be affected, involve the Data Protection Officer at "
                "once. The General Counsel, Nina Haugen, decides whether the breach must be "
                "reported to Datatilsynet, the Norwegian Data Protection Authority. The "
                "deadline is 72 hours after we became aware of the breach, so do not wait for "
                "the investigation to finish.",
            ),
            ("h2", "Customers and the public"),
            (
                "p",
                "Customers are told about an incident only after the General Counsel has "
                "approved the wording. Only the Head of Communications may speak to journalists "
                "or post about an incident on social media; everyone else refers questions to "
                "them.",
            ),
            ("h2", "Insurance and police"),
            (
                "p",
                "Our cyber insurer must be notified within 48 hours of a SEV1 incident, quoting "
                "policy number CYB-77810. The insurer's incident response partner can be "
                "brought in to help with forensics. Legal decides, together with the CEO, "
                "whether to report the incident to the police.",
            ),
        ],
    ),
    (
        "4. Recovery and post-incident review",
        [
            ("h2", "Recovery"),
            (
                "p",
                "Systems are restored only after the IC has confirmed that the attacker no "
                "longer has access. Restore from the immutable backups, which are kept for 35 "
                "days, and scan restored systems before they are reconnected. Monitor affected "
                "systems closely for at least two weeks after the incident is closed.",
            ),
            ("h2", "Post-incident review"),
            (
                "p",
                "Every SEV1 and SEV2 incident gets a blameless post-incident review within 10 "
                "working days of being closed. The review establishes the timeline, what went "
                "well, what did not, and the root cause. Action items are created in the SEC "
                "project with an owner and a due date, and the CISO reports their status to the "
                "leadership team every month.",
            ),
            ("h2", "Evidence"),
            (
                "p",
                "Evidence and incident records are kept for three years after an incident is "
                "closed, or longer if Legal places them on hold for a claim or investigation.",
            ),
            ("h2", "Practice"),
            (
                "p",
                "The IT Security team runs a tabletop exercise with the leadership team every "
                "October, based on a realistic scenario such as ransomware in the factory "
                "network. Lessons from the exercise are fed back into this runbook.",
            ),
        ],
    ),
]

# --------------------------------------------------------------------------------------
# Content: remote work policy (DOCX).
# --------------------------------------------------------------------------------------

REMOTE_POLICY: list[tuple[str, object]] = [
    ("title", "Remote Work Policy"),
    (
        "meta",
        "Policy ID HR-POL-014, version 2.0. Owner: Hanne Vik, Chief People Officer. "
        "Effective from 1 March 2025. Applies to all employees of Halvorsen Instruments AS "
        "and its subsidiaries.",
    ),
    ("h1", "1. Purpose and scope"),
    (
        "p",
        "Halvorsen Instruments believes that good work happens both in the office and at "
        "home. This policy sets out when employees may work remotely, how remote work is "
        "organised, and what the company provides. It covers working from home, from "
        "another place in your country of employment, and temporarily from abroad. It does "
        "not cover business travel.",
    ),
    (
        "p",
        "Remote work is an arrangement, not an entitlement. It depends on the role, on the "
        "needs of the team and on the employee's performance, and a manager may ask an "
        "employee to spend more time in the office for a period, for example during "
        "onboarding or a product launch.",
    ),
    ("h1", "2. Eligibility"),
    (
        "p",
        "How much remote work is possible depends on the kind of work. The table below "
        "shows the maximum for each role group. New employees work from the office during "
        "their first four weeks, whatever their role.",
    ),
    (
        "table",
        [
            ["Role group", "Remote work allowed", "Notes"],
            [
                "Office roles (sales, marketing, finance, HR, software)",
                "Up to three days a week",
                "Anchor days apply",
            ],
            [
                "Applications and laboratory staff",
                "One day a week",
                "Agree the lab schedule with your team lead",
            ],
            [
                "Production, warehouse and quality control",
                "Not possible",
                "On-site roles",
            ],
            [
                "Field service engineers",
                "Home-based",
                "Work from home between customer visits",
            ],
        ],
    ),
    ("h1", "3. Hybrid working"),
    ("h2", "3.1 Anchor days"),
    (
        "p",
        "To make sure teams actually meet, Tuesday and Thursday are anchor days: everyone in "
        "an office role is expected in the office on those days unless they are travelling, "
        "ill or on leave. Teams may agree additional office days among themselves.",
    ),
    ("h2", "3.2 Agreeing a pattern"),
    (
        "p",
        "Agree your regular remote days with your manager and record them in Compass. Changes "
        "for a single week can be agreed informally. Remote days are not carried over: a week "
        "with no remote days does not give more remote days the next week.",
    ),
    ("h2", "3.3 Being available"),
    (
        "p",
        "When working remotely you are expected to be as reachable as in the office: keep "
        "your Teams status up to date, join meetings with the camera on where practical, and "
        "be able to come to the office within a reasonable time if something urgent comes "
        "up.",
    ),
    ("h1", "4. Working from another country"),
    (
        "p",
        "Employees in office roles may work temporarily from another country for up to 20 "
        "working days per calendar year. Register each stay in Compass at least 10 working "
        "days before you travel; it needs approval from your manager and from People & "
        "Culture. Working from countries on the Trade Compliance restricted list is never "
        "allowed, and neither is bringing lab or demo equipment.",
    ),
    (
        "p",
        "Stays longer than 20 working days, or a permanent move, can create tax and social "
        "security obligations for both you and the company. They need a separate assessment "
        "by People & Culture and Finance, which takes at least six weeks.",
    ),
    ("h1", "5. Equipment and allowances"),
    ("h2", "5.1 Home office set-up"),
    (
        "p",
        "Employees in role groups with regular remote work can claim a one-time home office "
        "allowance of up to NOK 6,000 (or the equivalent in local currency) for a desk and an "
        "ergonomic chair. Claim it through Compass Expenses with receipts within your first "
        "year in an eligible role. A monitor, keyboard, mouse and headset can be ordered from "
        "IT; they remain company property.",
    ),
    ("h2", "5.2 Internet"),
    (
        "p",
        "The company contributes NOK 400 per month towards your home internet connection. "
        "The contribution is paid with your salary and taxed according to local rules. Your "
        "connection should give at least 50 Mbit/s download for video meetings to work "
        "well.",
    ),
    ("h1", "6. Health, safety and data protection"),
    ("h2", "6.1 Ergonomics"),
    (
        "p",
        "Complete the home workplace self-assessment in Compass within your first month of "
        "working remotely. If it shows problems, the company health service can arrange a "
        "video consultation with a physiotherapist.",
    ),
    ("h2", "6.2 Protecting company information"),
    (
        "p",
        "Make sure family members and visitors cannot see or use your company laptop. Do not "
        "print Confidential documents at home. When working in public places such as trains, "
        "cafes or airport lounges, use the privacy filter that comes with your laptop and do "
        "not take confidential calls where others can listen.",
    ),
    ("h1", "7. Review"),
    (
        "p",
        "People & Culture reviews this policy every year together with the employee "
        "representatives. Questions about the policy go to your manager or to "
        "hr@halvorsen-instruments.com.",
    ),
]

# --------------------------------------------------------------------------------------
# Content: sales kickoff deck (PPTX). (title, bullets); a bullet starting with "  " is
# a second-level bullet. The first slide uses the title layout (subtitle lines).
# --------------------------------------------------------------------------------------

SKO_SLIDES: list[tuple[str, list[str]]] = [
    (
        "Sales Kickoff 2026: One Halvorsen",
        [
            "13-14 January 2026, Nidelva Conference Centre, Trondheim",
            "Thomas Brekke, Chief Commercial Officer",
        ],
    ),
    (
        "2025 in review",
        [
            "Revenue NOK 1.21 billion, up 9% on 2024",
            "Order intake NOK 1.30 billion; book-to-bill 1.07",
            "312 new customer accounts, 41 of them in pharma QC",
            "Asia-Pacific was the fastest-growing region: +21%",
            "Service and consumables reached 31% of revenue",
            "Largest single deal: 46 Vega 300 systems for Nordic Pharma Labs",
        ],
    ),
    (
        "Our targets for 2026",
        [
            "Revenue target: NOK 1.38 billion",
            "Service contract attach rate from 44% to 55% of new instruments",
            "Upgrade 60 Orion 3 customers to Orion 4",
            "Grow North America by 15%, led by the Burlington team",
            "Sign 8 new distributors in South-East Asia and the Middle East",
        ],
    ),
    (
        "Introducing Vega X2",
        [
            "Our new flagship UV-Vis spectrophotometer, launching 2 March 2026",
            "Full 190-1100 nm scan in 1.8 seconds, fastest in its class",
            "Built-in Orion 4 workstation and 21 CFR Part 11 ready out of the box",
            "List price EUR 38,900; trade-in credit for Vega 200 owners",
            "First customer shipments from week 15",
            "Each region receives three demo units in February",
        ],
    ),
    (
        "Pricing and discount authority",
        [
            "Up to 10%: account manager decides",
            "10-20%: regional sales director approves",
            "Above 20%: CCO approval through the deal desk in Salesforce",
            "Multi-year service agreements (3 years or more): extra 5% allowed",
            "Never discount consumables in the same quote as an instrument",
        ],
    ),
    (
        "Compensation plan 2026",
        [
            "Target split stays at 65% base salary and 35% variable pay",
            "Commission paid quarterly, one month after quarter close",
            "Accelerator 1.5x on all bookings above 110% of quota",
            "Vega X2 launch bonus: EUR 750 for each of your first five X2 orders",
            "President's Club: the top 12 performers travel to Madeira in May 2027",
        ],
    ),
    (
        "Key dates 2026",
        [
            "2 March: Vega X2 launch, webinar for customers at 15:00 CET",
            "24-27 March: analytica in Munich, booth A3.512",
            "Quarter end: orders must be booked in Salesforce by 23:00 CET on the last "
            "working day of the quarter",
            "9-10 June: partner summit in Eindhoven",
            "September: mid-year pipeline review in each region",
        ],
    ),
    (
        "Who to ask",
        [
            "Deal desk (discounts, non-standard terms): dealdesk@halvorsen-instruments.com",
            "Sales operations and Salesforce: Ida Rønning",
            "Vega X2 product marketing: Felix Aalberg",
            "Commission questions: commission@halvorsen-instruments.com",
        ],
    ),
]

# --------------------------------------------------------------------------------------
# Content: office directory (XLSX).
# --------------------------------------------------------------------------------------

OFFICE_HEADER = [
    "Office",
    "City",
    "Country",
    "Address",
    "Reception hours",
    "Guest Wi-Fi",
    "Facilities contact",
    "Facilities phone",
    "Headcount",
    "Main functions",
    "Parking",
]

OFFICES = [
    [
        "Trondheim (HQ)",
        "Trondheim",
        "Norway",
        "Brattørkaia 17, 7010 Trondheim",
        "Mon-Fri 07:30-16:00",
        "HALV-GUEST-TRD",
        "Sigrid Aune",
        "+47 73 80 40 10",
        185,
        "Headquarters, production, firmware and electronics R&D, finance",
        "40 spaces in the basement garage, book in Compass",
    ],
    [
        "Oslo",
        "Oslo",
        "Norway",
        "Karenslyst allé 9, 0278 Oslo",
        "Mon-Fri 08:00-16:00",
        "HALV-GUEST-OSL",
        "Jonas Berg",
        "+47 22 51 88 30",
        48,
        "Nordic sales, marketing, customer training",
        "No parking; Skøyen station is a 5-minute walk",
    ],
    [
        "Gothenburg",
        "Göteborg",
        "Sweden",
        "Lindholmspiren 5, 417 56 Göteborg",
        "Mon-Fri 08:00-16:30",
        "HALV-GUEST-GOT",
        "Elin Sjöberg",
        "+46 31 760 22 00",
        72,
        "Orion software R&D, optics lab, equipment pool",
        "Visitor parking at Lindholmen P-hus",
    ],
    [
        "Eindhoven",
        "Eindhoven",
        "Netherlands",
        "High Tech Campus 32, 5656 AE Eindhoven",
        "Mon-Fri 08:30-17:00",
        "HALV-GUEST-EHV",
        "Pieter de Vries",
        "+31 40 851 3300",
        31,
        "Applications lab, Benelux and DACH sales",
        "Campus parking P3, free for visitors",
    ],
    [
        "Burlington",
        "Burlington, MA",
        "United States",
        "20 Mall Road, Suite 410, Burlington, MA 01803",
        "Mon-Fri 08:30-17:30 (ET)",
        "HALV-GUEST-BOS",
        "Karen Whitfield",
        "+1 781 555 0142",
        44,
        "North America sales, service and spare parts",
        "Free parking in front of the building",
    ],
    [
        "Singapore",
        "Singapore",
        "Singapore",
        "1 Fusionopolis Way, #12-08 Connexis, Singapore 138632",
        "Mon-Fri 09:00-18:00",
        "HALV-GUEST-SIN",
        "Tan Wei Ling",
        "+65 6550 7120",
        26,
        "Asia-Pacific service hub, spare parts warehouse",
        "Paid parking in the Connexis basement",
    ],
]

ROOMS_HEADER = ["Office", "Room", "Floor", "Seats", "Video system", "Notes"]

ROOMS = [
    ["Trondheim (HQ)", "Dovre", 4, 22, "Teams Room", "Boardroom; book through the CEO office"],
    ["Trondheim (HQ)", "Rondane", 4, 8, "Teams Room", ""],
    ["Trondheim (HQ)", "Femunden", 2, 12, "Teams Room", "Next to the production floor"],
    ["Trondheim (HQ)", "Lab Lounge", 1, 6, "None", "Lab coats required"],
    ["Oslo", "Holmenkollen", 3, 16, "Teams Room", "Used for customer training"],
    ["Oslo", "Bygdøy", 3, 6, "Teams Room", ""],
    ["Gothenburg", "Vinga", 5, 18, "Teams Room", "Demo instruments can be set up here"],
    ["Gothenburg", "Hisingen", 5, 10, "Teams Room", ""],
    ["Gothenburg", "Marstrand", 4, 4, "Screen only", "Quiet room"],
    ["Eindhoven", "Kempen", 2, 12, "Teams Room", ""],
    ["Eindhoven", "Application Lab", 1, 8, "Camera on lab bench", "Customer demos"],
    ["Burlington", "Walden", 4, 14, "Teams Room", ""],
    ["Burlington", "Lexington", 4, 6, "Teams Room", ""],
    ["Singapore", "Merlion", 12, 10, "Teams Room", ""],
]


# ======================================================================================
# Builders
# ======================================================================================


def _check_latin1(text: str) -> str:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError as exc:  # pragma: no cover - content error
        raise SystemExit(f"non latin-1 text in PDF content: {text!r}") from exc
    return text


def build_pdf(path: Path, title: str, pages: list[tuple[str, list[tuple[str, object]]]]) -> None:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    class DocPDF(FPDF):
        def footer(self) -> None:
            self.set_y(-14)
            self.set_font("helvetica", size=8)
            self.set_text_color(120, 120, 120)
            self.cell(0, 6, f"{COMPANY} - {title} - page {self.page_no()}", align="C")

    pdf = DocPDF(format="A4")
    pdf.set_creation_date(FIXED_DT)
    pdf.set_title(f"{COMPANY}: {title}")
    pdf.set_author("Halvorsen Instruments AS")
    pdf.set_subject(title)
    pdf.set_creator("tools/make_sample_docs.py")
    pdf.set_producer("fpdf2")
    pdf.set_lang("en")
    pdf.set_margins(22, 20, 22)
    pdf.set_auto_page_break(auto=True, margin=20)
    line: dict[str, Any] = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}

    for number, (heading, blocks) in enumerate(pages, start=1):
        pdf.add_page()
        pdf.set_text_color(20, 40, 80)
        pdf.set_font("helvetica", "B", 18)
        pdf.multi_cell(0, 9, _check_latin1(heading), **line)
        pdf.ln(3)
        for kind, content in blocks:
            if kind == "h2":
                pdf.ln(2)
                pdf.set_text_color(20, 40, 80)
                pdf.set_font("helvetica", "B", 12)
                pdf.multi_cell(0, 6.5, _check_latin1(str(content)), **line)
                pdf.ln(1)
            elif kind == "p":
                pdf.set_text_color(0, 0, 0)
                pdf.set_font("helvetica", "", 10.5)
                pdf.multi_cell(0, 5.4, _check_latin1(str(content)), align="L", **line)
                pdf.ln(2.5)
            elif kind == "ul":
                pdf.set_text_color(0, 0, 0)
                pdf.set_font("helvetica", "", 10.5)
                assert isinstance(content, list)
                for item in content:
                    pdf.set_x(pdf.l_margin + 4)
                    pdf.cell(5, 5.4, "-")
                    pdf.multi_cell(0, 5.4, _check_latin1(item), align="L", **line)
                    pdf.ln(1.2)
                pdf.ln(1.5)
            else:  # pragma: no cover - content error
                raise ValueError(kind)
        if pdf.page_no() != number:
            raise SystemExit(f"{path.name}: section {heading!r} overflows its page")
    pdf.output(str(path))


def build_docx(path: Path) -> None:
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    cp = doc.core_properties
    cp.title = "Remote Work Policy"
    cp.subject = "HR-POL-014"
    cp.author = "Hanne Vik"
    cp.last_modified_by = "People & Culture"
    cp.created = datetime(2025, 2, 10, 9, 0, 0)
    cp.modified = datetime(2025, 2, 24, 14, 30, 0)
    cp.last_printed = datetime(2025, 2, 24, 14, 30, 0)
    cp.revision = 4
    cp.comments = ""
    cp.keywords = "remote work, hybrid, home office"
    doc.styles["Normal"].font.name = "Calibri"
    doc.styles["Normal"].font.size = Pt(11)

    for kind, content in REMOTE_POLICY:
        if kind == "title":
            doc.add_heading(str(content), level=0)
        elif kind == "meta":
            para = doc.add_paragraph()
            run = para.add_run(str(content))
            run.italic = True
        elif kind == "h1":
            doc.add_heading(str(content), level=1)
        elif kind == "h2":
            doc.add_heading(str(content), level=2)
        elif kind == "p":
            doc.add_paragraph(str(content))
        elif kind == "table":
            assert isinstance(content, list)
            rows = content
            table = doc.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    cell = table.cell(r, c)
                    cell.text = value
                    if r == 0:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
            # Mark the first row as a header row (repeats on each page).
            tr_pr = table.rows[0]._tr.get_or_add_trPr()
            header = OxmlElement("w:tblHeader")
            header.set(qn("w:val"), "true")
            tr_pr.append(header)
        else:  # pragma: no cover - content error
            raise ValueError(kind)
    doc.save(str(path))


def build_pptx(path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches, Pt

    prs = Presentation()
    prs.slide_width = Inches(13.333)
    prs.slide_height = Inches(7.5)
    cp = prs.core_properties
    cp.title = "Sales Kickoff 2026"
    cp.author = "Thomas Brekke"
    cp.last_modified_by = "Sales Operations"
    cp.created = datetime(2025, 12, 1, 9, 0, 0)
    cp.modified = datetime(2026, 1, 9, 16, 0, 0)
    cp.revision = 12
    cp.subject = "Sales Kickoff 2026, Trondheim"

    for number, (title, bullets) in enumerate(SKO_SLIDES, start=1):
        if number == 1:
            slide = prs.slides.add_slide(prs.slide_layouts[0])
            slide.shapes.title.text = title
            for shape, top, height in (
                (slide.shapes.title, 2.0, 1.6),
                (slide.placeholders[1], 3.9, 1.6),
            ):
                shape.left, shape.width = Inches(1.0), Inches(11.33)
                shape.top, shape.height = Inches(top), Inches(height)
            body = slide.placeholders[1].text_frame
            body.text = bullets[0]
            for line in bullets[1:]:
                body.add_paragraph().text = line
            continue
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = title
        body_shape = slide.placeholders[1]
        body_shape.left, body_shape.top = Inches(0.8), Inches(1.7)
        body_shape.width, body_shape.height = Inches(11.7), Inches(5.2)
        slide.shapes.title.left, slide.shapes.title.width = Inches(0.8), Inches(11.7)
        frame = body_shape.text_frame
        for i, bullet in enumerate(bullets):
            para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            level = 1 if bullet.startswith("  ") else 0
            para.text = bullet.strip()
            para.level = level
            para.font.size = Pt(24 if level == 0 else 20)
    prs.save(str(path))


def build_xlsx(path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.properties.creator = "Sigrid Aune"
    wb.properties.lastModifiedBy = "Facilities"
    wb.properties.title = "Office directory"
    wb.properties.created = datetime(2025, 9, 1, 8, 0, 0)

    def fill_sheet(ws, header: list[str], rows: list[list[object]], widths: list[int]) -> None:
        ws.append(header)
        for row in rows:
            ws.append(row)
        for cell in ws[1]:
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = PatternFill("solid", fgColor="1F3A5F")
            cell.alignment = Alignment(vertical="center")
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions

    offices = wb.active
    offices.title = "Offices"
    fill_sheet(offices, OFFICE_HEADER, OFFICES, [16, 16, 14, 44, 22, 17, 18, 18, 11, 52, 44])
    rooms = wb.create_sheet("Meeting rooms")
    fill_sheet(rooms, ROOMS_HEADER, ROOMS, [16, 18, 7, 7, 20, 40])
    wb.save(str(path))


def normalize_zip(path: Path) -> None:
    """Rewrite an OOXML zip with fixed timestamps so that output is byte-identical."""
    modified = FIXED_DT.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(path) as src:
        members = [(info, src.read(info.filename)) for info in src.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in members:
            if info.filename == "docProps/core.xml" and path.suffix == ".xlsx":
                # openpyxl always stamps "now" as the modification date when saving.
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + modified.encode() + rb"\g<2>",
                    data,
                )
            out = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            out.compress_type = zipfile.ZIP_DEFLATED
            out.external_attr = 0o644 << 16
            dst.writestr(out, data)
    path.write_bytes(buffer.getvalue())


def build_all() -> None:
    targets = {
        "employee-handbook.pdf": lambda p: build_pdf(p, HANDBOOK_TITLE, HANDBOOK),
        "security-incident-runbook.pdf": lambda p: build_pdf(p, RUNBOOK_TITLE, RUNBOOK),
        "remote-work-policy.docx": build_docx,
        "sales-kickoff-2026.pptx": build_pptx,
        "office-directory.xlsx": build_xlsx,
    }
    for name, builder in targets.items():
        path = DOCS / name
        builder(path)
        if path.suffix in {".docx", ".pptx", ".xlsx"}:
            normalize_zip(path)
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size:,} bytes)")


# ======================================================================================
# Text extraction and the questions check
# ======================================================================================


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip -= 1
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def extract_pages(path: Path) -> list[str]:
    """Text of a document: one string per page/slide for PDF/PPTX, one string otherwise."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from pypdf import PdfReader

        return [page.extract_text() or "" for page in PdfReader(str(path)).pages]
    if suffix == ".pptx":
        from pptx import Presentation

        slides = []
        for slide in Presentation(str(path)).slides:
            parts = []
            for shape in slide.shapes:
                if shape.has_text_frame:
                    parts.append(shape.text_frame.text)
                if getattr(shape, "has_table", False) and shape.has_table:
                    for row in shape.table.rows:
                        parts.extend(cell.text for cell in row.cells)
            slides.append("\n".join(parts))
        return slides
    if suffix == ".docx":
        from docx import Document

        doc = Document(str(path))
        parts = [p.text for p in doc.paragraphs]
        for table in doc.tables:
            for row in table.rows:
                parts.append(" | ".join(cell.text for cell in row.cells))
        return ["\n".join(parts)]
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(str(path), read_only=True)
        parts = []
        for ws in wb.worksheets:
            parts.append(ws.title)
            for row in ws.iter_rows(values_only=True):
                parts.append(" | ".join("" if v is None else str(v) for v in row))
        return ["\n".join(parts)]
    if suffix in {".html", ".htm"}:
        parser = _HTMLText()
        parser.feed(path.read_text(encoding="utf-8"))
        return [html.unescape("".join(parser.parts))]
    if suffix == ".eml":
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        content = body.get_content() if body is not None else ""
        return [f"{msg['Subject']}\n{content}"]
    if suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            return ["\n".join(" | ".join(row) for row in csv.reader(fh))]
    return [path.read_text(encoding="utf-8")]


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ")).strip().casefold()


def word_count(text: str) -> int:
    return len(re.findall(r"[\w][\w'.,/:@%+-]*", text))


def documents() -> list[Path]:
    return sorted(p for p in DOCS.iterdir() if p.is_file() and p.name != QUESTIONS.name)


def check() -> bool:
    import yaml

    errors: list[str] = []
    docs = documents()
    texts = {p.name: [norm(t) for t in extract_pages(p)] for p in docs}

    print("Documents:")
    total_chars = 0
    for p in docs:
        raw = extract_pages(p)
        chars = sum(len(t) for t in raw)
        total_chars += chars
        unit = {".pdf": "pages", ".pptx": "slides"}.get(p.suffix, "")
        extent = f"{len(raw)} {unit}" if unit else "-"
        words = sum(word_count(t) for t in raw)
        print(f"  {p.name:32} {p.suffix[1:]:5} {extent:>9} {words:6} words {chars:7} chars")
        if not 250 <= words <= 2600:
            errors.append(f"{p.name}: {words} words is outside ~300-2,500")
    print(f"  total {total_chars:,} characters, about {total_chars // 1000 + len(docs)} chunks")

    entries = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise SystemExit("questions.yaml must be a list")
    per_file: Counter[str] = Counter()
    pages_per_file: defaultdict[str, set[int]] = defaultdict(set)
    for i, entry in enumerate(entries, start=1):
        label = f"#{i} {entry.get('question', '?')!r}"
        if set(entry) - {"question", "file", "page", "answer"} or not {
            "question",
            "file",
            "answer",
        } <= set(entry):
            errors.append(f"{label}: keys must be question, file, page, answer")
            continue
        name, page, answer = entry["file"], entry.get("page"), norm(str(entry["answer"]))
        if name not in texts:
            errors.append(f"{label}: unknown file {name}")
            continue
        per_file[name] += 1
        pages = texts[name]
        paged = Path(name).suffix in PAGED
        if paged:
            if not isinstance(page, int) or not 1 <= page <= len(pages):
                errors.append(f"{label}: {name} needs a page between 1 and {len(pages)}")
                continue
            pages_per_file[name].add(page)
            if answer not in pages[page - 1]:
                found = [n for n, t in enumerate(pages, start=1) if answer in t]
                errors.append(f"{label}: answer not on page {page} of {name} (found on {found})")
            others = [n for n, t in enumerate(pages, start=1) if n != page and answer in t]
            if others:
                errors.append(f"{label}: answer also on page(s) {others} of {name}")
        else:
            if page is not None:
                errors.append(f"{label}: {name} has no pages; page must be null")
            if answer not in pages[0]:
                errors.append(f"{label}: answer not found in {name}")
        elsewhere = [n for n, t in texts.items() if n != name and any(answer in x for x in t)]
        if elsewhere:
            errors.append(f"{label}: answer {answer!r} also occurs in {elsewhere}")

    for name in texts:
        if per_file[name] < 2:
            errors.append(f"{name}: only {per_file[name]} question(s); need at least 2")
    handbook = "employee-handbook.pdf"
    if per_file[handbook] < 6 or len(pages_per_file[handbook]) < 6:
        errors.append(f"{handbook}: need 6+ questions spread over 6+ pages")
    if len(entries) < 24:
        errors.append(f"only {len(entries)} questions; need at least 24")

    print(f"\nQuestions: {len(entries)} over {len(per_file)} files")
    for name in sorted(texts):
        spread = sorted(pages_per_file[name]) if name in pages_per_file else ""
        print(f"  {name:32} {per_file[name]:3} {spread}")
    if errors:
        print(f"\nCHECK FAILED ({len(errors)} problems):")
        for err in errors:
            print(f"  - {err}")
        return False
    print("\nCHECK PASSED: every answer is on its page/file and in no other document.")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check questions.yaml")
    args = parser.parse_args()
    if not args.check:
        build_all()
        print()
    return 0 if check() else 1


if __name__ == "__main__":
    sys.exit(main())
