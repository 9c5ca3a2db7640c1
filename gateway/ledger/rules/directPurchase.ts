/**
 * DirectPurchase — the paper's demo (RESULTS): a household pays a prosumer for units
 * of energy, and once the payment is in a block its meter gets credit for them, so
 * its relay closes for the purchased amount and time. A bilateral deal: the price is
 * whatever the two agreed (within the grid's cap); the seller's export is not
 * settled against it, as in the paper.
 */
import { fail, type TxOf } from '../../../protocol/index.ts';
import { credit, debit, ownMeter, participant, requireParticipantSigner, type Rule } from './context.ts';

export const directPurchase: Rule<TxOf<'DirectPurchase'>> = ({ state, body, signer, ctx }) => {
  const buyer = requireParticipantSigner(signer, 'DirectPurchase');
  if (body.seller === buyer.email) fail('E_SELF_TRANSFER', `${buyer.email} cannot buy energy from itself; name the prosumer you are buying from`, 'body.seller');
  const seller = participant(state, body.seller, 'body.seller');
  if (seller.role !== 'prosumer') fail('E_WRONG_ROLE', `${seller.email} is a consumer and has no energy to sell; buy from a prosumer`, 'body.seller');
  ownMeter(state, body.meter, buyer.email, 'body.meter');
  const max = ctx.genesis.maxDirectPurchaseMWh;
  if (max !== undefined && body.energyMWh > max) {
    fail('E_OUT_OF_RANGE', `a direct purchase may be at most ${max} mWh on this grid, not ${body.energyMWh}`, 'body.energyMWh');
  }
  // The price paid, amount / energy, must respect the cap like any offer: amount·10⁶ ≤ energy·cap.
  const cap = ctx.genesis.priceCapMicroHecPerKWh;
  if (BigInt(body.amountMicroHec) * 1_000_000n > BigInt(body.energyMWh) * BigInt(cap)) {
    fail('E_PRICE_CAP', `${body.amountMicroHec} µHEC for ${body.energyMWh} mWh is above this grid's cap of ${cap} µHEC/kWh`, 'body.amountMicroHec');
  }
  debit(state, buyer.email, body.amountMicroHec, 'body.amountMicroHec', 'this purchase');
  credit(state, seller.email, body.amountMicroHec, 'body.seller');
  return [
    { kind: 'directPurchase', buyer: buyer.email, seller: seller.email, meter: body.meter, energyMWh: body.energyMWh, amountMicroHec: body.amountMicroHec },
    { kind: 'creditDue', meter: body.meter, energyMWh: body.energyMWh, validFrom: ctx.blockTime, validUntil: ctx.blockTime + body.durationMs, ref: ctx.txId },
  ];
};
