/** The paper's Certificate Authority: households and meters are admitted by an authority. */
import { fail, keyIdOf, type TxOf } from '../../../protocol/index.ts';
import { keys, type KeyEntry, type MeterEntry, type ParticipantEntry } from '../entities.ts';
import { meter, participant, putParticipant, type Rule } from './context.ts';
import { indexGridMeter } from './utility.ts';

export const registerParticipant: Rule<TxOf<'RegisterParticipant'>> = ({ state, body, ctx }) => {
  if (state.get(keys.participant(body.email))) {
    fail('E_PARTICIPANT_EXISTS', `${body.email} is already registered; each household has one account`, 'body.email');
  }
  const keyId = keyIdOf(body.publicKey);
  if (state.get<KeyEntry>(keys.key(keyId))) {
    fail('E_KEY_IN_USE', `public key ${keyId} already belongs to another account or meter; make a new wallet key`, 'body.publicKey');
  }
  const entry: ParticipantEntry = {
    name: body.name, email: body.email, role: body.role, publicKey: body.publicKey, keyId,
    balanceMicroHec: 0, escrowMicroHec: 0, nonce: 0, meters: [], since: ctx.height,
  };
  putParticipant(state, entry);
  state.set(keys.key(keyId), { participant: body.email });
  return [{ kind: 'participantRegistered', email: body.email, role: body.role, keyId }];
};

export const enrollMeter: Rule<TxOf<'EnrollMeter'>> = ({ state, body, ctx }) => {
  if (keyIdOf(body.publicKey) !== body.meter) {
    fail('E_METER_ID_MISMATCH', `meter id ${body.meter} is not the key id of its public key (${keyIdOf(body.publicKey)}); copy both from the meter's console or Hello`, 'body.meter');
  }
  const owner = participant(state, body.participant, 'body.participant');
  if (state.get(keys.meter(body.meter))) {
    fail('E_METER_EXISTS', `meter ${body.meter} is already enrolled; a revoked meter needs a new key`, 'body.meter');
  }
  if (state.get<KeyEntry>(keys.key(body.meter))) {
    fail('E_KEY_IN_USE', `key ${body.meter} already belongs to an account`, 'body.publicKey');
  }
  const entry: MeterEntry = {
    meter: body.meter, publicKey: body.publicKey, participant: body.participant, installer: body.installer,
    location: body.location, pulsesPerKWh: body.pulsesPerKWh, relay: body.relay, since: ctx.height,
  };
  state.set(keys.meter(body.meter), entry);
  state.set(keys.key(body.meter), { meter: body.meter });
  putParticipant(state, { ...owner, meters: [...owner.meters, body.meter] });
  indexGridMeter(state, ctx.genesis, body.meter);
  return [{ kind: 'meterEnrolled', meter: body.meter, participant: body.participant }];
};

export const revokeMeter: Rule<TxOf<'RevokeMeter'>> = ({ state, body, ctx }) => {
  const m = meter(state, body.meter, 'body.meter');
  if (m.revoked) fail('E_METER_REVOKED', `meter ${body.meter} was already revoked at height ${m.revoked.height}`, 'body.meter');
  state.set(keys.meter(body.meter), { ...m, revoked: { height: ctx.height, reason: body.reason } });
  return [{ kind: 'meterRevoked', meter: body.meter, participant: m.participant }];
};
