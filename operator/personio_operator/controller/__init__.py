"""kopf handlers: schedule tick, triggers, pause/resume, status, Events, notifications."""
