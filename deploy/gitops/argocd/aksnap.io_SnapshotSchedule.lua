-- Argo CD health for aksnap.io/SnapshotSchedule (resource.customizations.health.aksnap.io_SnapshotSchedule).
-- Same verdicts as kstatus (Flux): generation not yet observed or Reconciling=True -> Progressing,
-- Stalled=True -> Degraded, Ready=True -> Healthy, Ready=False -> Progressing (retrying); and
-- spec.suspend: true -> Suspended (scheduled runs paused; kstatus has no such state and says Current).
local function condition(t)
  if obj.status ~= nil and obj.status.conditions ~= nil then
    for _, c in ipairs(obj.status.conditions) do
      if c.type == t then return c end
    end
  end
  return nil
end
local function said(c, fallback)
  if c.message ~= nil and c.message ~= "" then return (c.reason or fallback) .. ": " .. c.message end
  return c.reason or fallback
end
if obj.metadata.deletionTimestamp ~= nil then
  return { status = "Progressing", message = "Being deleted (spec.childDeletionPolicy applies to its snapshots)" }
end
if obj.status == nil or obj.status.observedGeneration == nil then
  return { status = "Progressing", message = "Waiting for the operator to observe the object" }
end
if obj.status.observedGeneration ~= obj.metadata.generation then
  return { status = "Progressing", message = "Generation " .. tostring(obj.metadata.generation) .. " not observed yet (observed " .. tostring(obj.status.observedGeneration) .. ")" }
end
local stalled = condition("Stalled")
if stalled ~= nil and stalled.status == "True" then
  return { status = "Degraded", message = said(stalled, "Stalled") }
end
if obj.spec ~= nil and obj.spec.suspend == true then
  return { status = "Suspended", message = "Scheduled runs are suspended (spec.suspend); on-demand runs still happen" }
end
local reconciling = condition("Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  return { status = "Progressing", message = said(reconciling, "Reconciling") }
end
local ready = condition("Ready")
if ready ~= nil and ready.status == "True" then
  return { status = "Healthy", message = said(ready, "Ready") }
end
if ready ~= nil then
  return { status = "Progressing", message = said(ready, "NotReady") }
end
return { status = "Progressing", message = "No Ready condition yet" }
