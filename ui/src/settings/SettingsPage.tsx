import { useState, useSyncExternalStore } from "react";
import { Card } from "../components/common";
import { formatAbsolute } from "../lib/format";
import { applyTheme, readTheme, type ThemeChoice } from "../lib/theme";
import { allZones, getTimePrefs, setTimePrefs, subscribeTimePrefs, type TimePrefs } from "../lib/timePrefs";

/** Per-browser preferences: time zone, clock and theme. */
export function SettingsPage() {
  const prefs = useSyncExternalStore(subscribeTimePrefs, getTimePrefs);
  const [theme, setTheme] = useState<ThemeChoice>(readTheme);
  const zones = allZones();
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const save = (p: Partial<TimePrefs>) => setTimePrefs({ ...prefs, ...p });
  return (
    <div className="page">
      <header className="page-head">
        <h1>Settings</h1>
      </header>
      <Card title="Time">
        <div className="form-grid">
          <label className="field">
            <span>Time zone</span>
            <select value={prefs.timeZone} onChange={(e) => save({ timeZone: e.target.value })} name="timezone">
              <option value="">Browser ({browserZone})</option>
              {zones.map((z) => (
                <option key={z} value={z}>
                  {z}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Clock</span>
            <select value={prefs.clock} onChange={(e) => save({ clock: e.target.value as TimePrefs["clock"] })} name="clock">
              <option value="">Locale default</option>
              <option value="24">24-hour</option>
              <option value="12">12-hour</option>
            </select>
          </label>
        </div>
        <p className="muted small" data-testid="time-sample">
          Times now read like this: {formatAbsolute(new Date().toISOString())}
        </p>
        <p className="muted small">Saved in this browser; every page shows times in this zone and clock.</p>
      </Card>
      <Card title="Appearance">
        <fieldset className="radio-row">
          <legend className="sr-only">Theme</legend>
          {(["system", "light", "dark"] as const).map((t) => (
            <label key={t} className="check">
              <input
                type="radio"
                name="theme"
                value={t}
                checked={theme === t}
                onChange={() => {
                  applyTheme(t);
                  setTheme(t);
                }}
              />
              {t === "system" ? "Follow the system" : t === "light" ? "Light" : "Dark"}
            </label>
          ))}
        </fieldset>
      </Card>
    </div>
  );
}
